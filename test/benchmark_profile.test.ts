// The benchmark harness (tools/lib/bench.ts), the profiler's aggregation and counters
// (tools/lib/profile.ts) and `tools/benchmark profile` end to end on wasm with a tiny TinyViM.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { shapeArg, timeSteps, type Workload } from '../tools/lib/bench';
import { aggregate, byKernelAndShape, countStep, formatTable, parsePrograms, type KernelRecord } from '../tools/lib/profile';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('benchmark harness', () => {
  it('runs warm-up + repeats x runs steps, disposes every result, one figure per block', async () => {
    let steps = 0;
    const x = tf.ones([4, 4]);
    const w: Workload = {
      label: 'fake',
      images: 2,
      step: () => {
        steps++;
        return tf.matMul(x, x);
      },
      dispose: () => x.dispose(),
    };
    const before = tf.memory().numTensors;
    const t = await timeSteps(w, { warmup: 2, runs: 3, repeats: 2 });
    expect(steps).toBe(2 + 3 * 2);
    expect(t.block_ms_per_step.length).toBe(2);
    // images_per_s and median_ms are both reported with 2 decimals: 2 images / median step up to those roundings.
    const m = t.median_ms;
    const tol = 0.005 + (2000 * 0.005) / (m * Math.max(m - 0.005, 1e-3)) + 1e-9;
    expect(Math.abs(t.images_per_s - 2000 / m)).toBeLessThanOrEqual(tol);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });

  it('--shape takes H W or one S, and names the flag when wrong', () => {
    expect(shapeArg(undefined, [512, 512])).toEqual([512, 512]);
    expect(shapeArg([800, 1344], [1, 1])).toEqual([800, 1344]);
    expect(shapeArg([224], [1, 1])).toEqual([224, 224]);
    expect(() => shapeArg([16, 16], [1, 1], 32)).toThrow(/--shape: expected one or two integers >= 32/);
  });
});

describe('profiler aggregation and counters', () => {
  it('parses webgpu per-program times', () => {
    expect(parsePrograms('MatMulPackedProgram: 1.5, BinaryOpProgram: 0.25')).toEqual([
      { name: 'MatMulPackedProgram', ms: 1.5 },
      { name: 'BinaryOpProgram', ms: 0.25 },
    ]);
    expect(parsePrograms('')).toEqual([]);
  });

  it('groups by kernel and input shapes, sorted by total time, with shares of the sum', () => {
    const r = (name: string, shape: number[], ms: number): KernelRecord => ({ name, inputShapes: [shape], outputShapes: [shape], ms, programs: [] });
    const rows = byKernelAndShape([r('Add', [2], 1), r('Conv2D', [1, 8, 8, 3], 6), r('Add', [2], 2), r('Add', [3], 1)]);
    expect(rows.map((g) => [g.key, g.calls, g.total_ms])).toEqual([
      ['Conv2D [1,8,8,3]', 1, 6],
      ['Add [2]', 2, 3],
      ['Add [3]', 1, 1],
    ]);
    expect(rows[0].pct).toBeCloseTo(60, 6);
    expect(aggregate(rows.map((g) => ({ ms: g.total_ms, n: g.name })), (g) => g.n, (g) => g.n)[0].total_ms).toBe(6);
    expect(formatTable(rows, 2, 't').split('\n').length).toBe(4);
  });

  it('counts kernel invocations and host uploads of a step (a JS scalar operand is an upload)', async () => {
    const x = tf.ones([3]);
    const c = await countStep(async () => {
      tf.tidy(() => tf.mul(tf.add(x, 2), x));
    });
    expect(c.kernels).toBe(2);
    expect(c.uploads).toBe(1);
    expect(c.dispatches).toBeNull();
    x.dispose();
  });
});

describe('tools/benchmark profile', () => {
  it('profiles a tiny TinyViM forward on wasm: summary, tables and JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tvd-prof-'));
    const json = join(dir, 'p.json');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tools/benchmark.ts', 'profile', '--model', 'TinyViM_S', '--head', 'cls', '--mode', 'infer', '--shape', '32', '32', '--backend', 'wasm', '--warmup', '1', '--runs', '1', '--top', '3', '--json', json],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/per step: wall [\d.]+ ms .* summed kernel wall time [\d.]+ ms over \d+ kernel calls/);
    expect(r.stdout).toMatch(/by kernel and input shapes, kernel wall time \(top 3 of \d+\)/);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.summary.backend).toBe('wasm');
    expect(out.summary.kernels).toBeGreaterThan(100);
    expect(out.by_kernel.length).toBeGreaterThan(3);
    expect(out.by_kernel_shape.reduce((a: number, g: { total_ms: number }) => a + g.total_ms, 0)).toBeCloseTo(out.summary.kernel_ms_sum, 0);
  });
});
