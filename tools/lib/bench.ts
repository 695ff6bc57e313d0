// Shared by the benchmark tools: the timing harness, robust statistics and the common flag checks.
//
// How a step is timed (the same for every backend): warm-up steps first (not timed; they also
// compile the GPU pipelines), then `repeats` blocks of `runs` steps enqueued back to back, each
// block ending with ONE read of one element of the last step's result. On webgpu the queue runs in
// order, so that read returns only after every step of the block has finished on the GPU; nothing is
// read back and nothing is profiled inside a block. ms per step = block time / runs.
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../core/errors';
import { submitPendingWork } from '../../ops/backend';

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

export const mb = (bytes: number): number => bytes / 2 ** 20;

/** --warmup must be a non-negative integer, --runs and --repeats positive ones. */
export function checkRunCounts(argv: { warmup: number; runs: number; repeats?: number }): void {
  if (!Number.isInteger(argv.warmup) || argv.warmup < 0) throw new UserError('--warmup: expected a non-negative integer');
  if (!Number.isInteger(argv.runs) || argv.runs < 1) throw new UserError('--runs: expected a positive integer');
  if (argv.repeats !== undefined && (!Number.isInteger(argv.repeats) || argv.repeats < 1)) throw new UserError('--repeats: expected a positive integer');
}

/** --shape H W (or one S for S x S), each an integer >= `min`; `def` when absent. */
export function shapeArg(shape: number[] | undefined, def: [number, number], min = 1): [number, number] {
  if (!shape || !shape.length) return def;
  const [h, w] = shape.length === 1 ? [shape[0], shape[0]] : shape;
  if (shape.length > 2 || !Number.isInteger(h) || !Number.isInteger(w) || h < min || w < min) {
    throw new UserError(`--shape: expected one or two integers >= ${min} (H W), got ${shape.join(' ')}`);
  }
  return [h, w];
}

/** The yargs options every step benchmark shares (same names and defaults everywhere). */
export const TIMING_OPTIONS = {
  warmup: { type: 'number', default: 2, describe: 'untimed steps first (pipeline compilation, buffer pool)' },
  runs: { type: 'number', default: 5, describe: 'steps per timed block, enqueued back to back' },
  repeats: { type: 'number', default: 1, describe: 'timed blocks (median and mean over blocks)' },
} as const;

/**
 * One unit of work to time. `step()` enqueues one step and returns a tensor computed by it (the loss,
 * an output; the harness reads one element of the last one and disposes all of them), or null when the
 * step already returned host data (then the step itself was synchronised).
 */
export interface Workload {
  /** What runs, for the report line (model, shape, mode). */
  label: string;
  /** Images per step (for img/s). */
  images: number;
  step(): Promise<tf.Tensor | null> | tf.Tensor | null;
  dispose(): void;
}

export interface StepTiming {
  warmup: number;
  runs: number;
  repeats: number;
  /** Wall ms per step of each block (block time / runs). */
  block_ms_per_step: number[];
  median_ms: number;
  mean_ms: number;
  /** Host (JS) ms per step until step() returned: the enqueue cost on async backends. */
  host_ms_median: number;
  images_per_s: number;
  /** Images per second from the fastest and slowest block. */
  images_per_s_range: [number, number];
}

/** Waits until `t` is computed by reading one element of it (one tiny copy, not the whole tensor). */
export async function readOneElement(t: tf.Tensor): Promise<number> {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), [0], [1]));
  try {
    return (await one.data())[0];
  } finally {
    one.dispose();
  }
}

/** Runs `w` as described in this file's header and returns the figures. */
export async function timeSteps(w: Workload, opts: { warmup: number; runs: number; repeats: number }): Promise<StepTiming> {
  const sync = async (out: tf.Tensor | null) => {
    if (out) {
      await readOneElement(out);
      out.dispose();
    }
  };
  for (let i = 0; i < opts.warmup; i++) {
    submitPendingWork();
    await sync(await w.step());
  }
  const blocks: number[] = [];
  const host: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const pending: tf.Tensor[] = [];
    const t0 = performance.now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < opts.runs; i++) {
      const h0 = performance.now();
      submitPendingWork();
      last = await w.step();
      host.push(performance.now() - h0);
      if (last) pending.push(last);
    }
    if (last) await readOneElement(last);
    blocks.push((performance.now() - t0) / opts.runs);
    tf.dispose(pending);
  }
  const med = median(blocks);
  const ips = (ms: number) => (w.images * 1000) / ms;
  return {
    warmup: opts.warmup,
    runs: opts.runs,
    repeats: opts.repeats,
    block_ms_per_step: blocks.map((t) => +t.toFixed(2)),
    median_ms: +med.toFixed(2),
    mean_ms: +mean(blocks).toFixed(2),
    host_ms_median: +median(host).toFixed(2),
    images_per_s: +ips(med).toFixed(2),
    images_per_s_range: [+ips(Math.max(...blocks)).toFixed(2), +ips(Math.min(...blocks)).toFixed(2)],
  };
}

/** One report line for a StepTiming. */
export function timingLine(label: string, backend: string, t: StepTiming): string {
  const blocks = t.repeats > 1 ? `; blocks ${t.block_ms_per_step.join(', ')} ms/step; ${t.images_per_s_range[0]}-${t.images_per_s_range[1]} img/s` : '';
  return (
    `${label}, ${backend}: ${t.median_ms} ms/step median, ${t.mean_ms} ms mean = ${t.images_per_s} img/s ` +
    `(${t.repeats} block(s) of ${t.runs} back-to-back steps after ${t.warmup} warm-up${blocks}); host enqueue ${t.host_ms_median} ms/step`
  );
}
