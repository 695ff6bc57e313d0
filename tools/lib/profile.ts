// Per-kernel profile of one step and host-side counters, for `tools/benchmark profile`.
//
// Kernel times come from tf.profile(): on webgpu, tfjs-backend-webgpu 4.22 puts every program of a
// profiled kernel into its own compute pass with timestamp queries (timestampWrites) and reports the
// GPU time of the kernel as kernelTimeMs (the sum over its programs; extraInfo lists them as
// "ProgramName: ms, ..."); on cpu and wasm kernelTimeMs is the kernel function's wall time. Profiling
// changes what it measures around it (one pass and one staging buffer per program, which also stay in
// tfjs's buffer pool), so the profiled step is always the LAST thing a process does.
//
// Counters (installed only around one unprofiled step): engine kernel invocations (nested ones
// included), host uploads (engine.makeTensor: every tensor made from JS values, e.g. tf.scalar), and on
// webgpu the dispatches (one bind group is created per dispatch), GPU buffers created and
// queue.writeBuffer calls.
import * as tf from '@tensorflow/tfjs';

export interface KernelRecord {
  name: string;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
  ms: number;
  /** webgpu: per-program GPU times of this kernel. */
  programs: { name: string; ms: number }[];
}

export interface Aggregate {
  key: string;
  name: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  pct: number;
}

/** Parses tfjs-backend-webgpu's extraInfo ("ProgA: 0.12, ProgB: 3.4") into program times. */
export function parsePrograms(extraInfo: unknown): { name: string; ms: number }[] {
  if (typeof extraInfo !== 'string' || !extraInfo.trim()) return [];
  return extraInfo
    .split(', ')
    .map((part) => {
      const i = part.lastIndexOf(': ');
      return i < 0 ? null : { name: part.slice(0, i), ms: Number(part.slice(i + 2)) };
    })
    .filter((p): p is { name: string; ms: number } => p !== null && Number.isFinite(p.ms));
}

/** Kernel records of a tf.profile() result (kernelTimeMs and extraInfo already awaited by tf.profile). */
export function kernelRecords(info: Awaited<ReturnType<typeof tf.profile>>): KernelRecord[] {
  return info.kernels.map((k) => ({
    name: k.name,
    inputShapes: k.inputShapes,
    outputShapes: k.outputShapes,
    ms: Number(k.kernelTimeMs) || 0,
    programs: parsePrograms(k.extraInfo),
  }));
}

const shapeText = (s: (number[] | null)[]): string => s.map((d) => (d ? `[${d.join(',')}]` : '-')).join(' ');

/** Groups records by `keyOf`, sorted by total time (descending); pct is of the sum over all records. */
export function aggregate<T extends { ms: number }>(records: T[], keyOf: (r: T) => string, nameOf: (r: T) => string): Aggregate[] {
  const total = records.reduce((a, r) => a + r.ms, 0);
  const groups = new Map<string, Aggregate>();
  for (const r of records) {
    const key = keyOf(r);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, name: nameOf(r), calls: 0, total_ms: 0, mean_ms: 0, pct: 0 }));
    g.calls++;
    g.total_ms += r.ms;
  }
  const out = [...groups.values()];
  for (const g of out) {
    g.mean_ms = g.total_ms / g.calls;
    g.pct = total > 0 ? (100 * g.total_ms) / total : 0;
  }
  return out.sort((a, b) => b.total_ms - a.total_ms || b.calls - a.calls);
}

/** By kernel name and input shapes (what a replacement kernel would be tuned for). */
export const byKernelAndShape = (records: KernelRecord[]): Aggregate[] =>
  aggregate(records, (r) => `${r.name} ${shapeText(r.inputShapes)}`, (r) => r.name);

/** By kernel name only. */
export const byKernel = (records: KernelRecord[]): Aggregate[] => aggregate(records, (r) => r.name, (r) => r.name);

/** By webgpu program (class name), over all kernels. */
export function byProgram(records: KernelRecord[]): Aggregate[] {
  const progs = records.flatMap((r) => r.programs);
  return aggregate(progs, (p) => p.name, (p) => p.name);
}

/** A fixed-width table of the first `top` rows. */
export function formatTable(rows: Aggregate[], top: number, title: string): string {
  const shown = rows.slice(0, top);
  const lines = [`${title} (top ${shown.length} of ${rows.length})`, `${'total ms'.padStart(10)} ${'%'.padStart(6)} ${'calls'.padStart(6)} ${'mean ms'.padStart(9)}  kernel`];
  for (const r of shown) lines.push(`${r.total_ms.toFixed(2).padStart(10)} ${r.pct.toFixed(1).padStart(6)} ${String(r.calls).padStart(6)} ${r.mean_ms.toFixed(3).padStart(9)}  ${r.key}`);
  return lines.join('\n');
}

export interface StepCounts {
  /** Engine kernel invocations, nested ones included. */
  kernels: number;
  /** Tensors made from host values (engine.makeTensor: tf.tensor, tf.scalar, ...), and their bytes. */
  uploads: number;
  upload_bytes: number;
  /**
   * webgpu only (null elsewhere): compute dispatches (dispatchWorkgroups calls), bind groups created
   * (fewer than dispatches once the dispatch cache of ops/webgpu/dispatch_cache.ts is warm), GPU
   * buffers created, queue.writeBuffer calls.
   */
  dispatches: number | null;
  bind_groups_created: number | null;
  buffers_created: number | null;
  queue_writes: number | null;
}

type AnyFn = (...args: unknown[]) => unknown;

/** Replaces obj[key] by a counting wrapper; returns the undo function (or null if it cannot be wrapped). */
function wrap(obj: Record<string, unknown> | undefined, key: string, onCall: (args: unknown[]) => void): (() => void) | null {
  if (!obj || typeof obj[key] !== 'function') return null;
  const had = Object.prototype.hasOwnProperty.call(obj, key);
  const orig = obj[key] as AnyFn;
  try {
    obj[key] = function (this: unknown, ...args: unknown[]) {
      onCall(args);
      return orig.apply(this, args);
    };
  } catch {
    return null;
  }
  if (obj[key] === orig) return null;
  return () => {
    if (had) obj[key] = orig;
    else delete obj[key];
  };
}

/** Runs `fn` with the counters of StepCounts installed (then removes them). */
export async function countStep(fn: () => Promise<void>): Promise<StepCounts> {
  const c: StepCounts = { kernels: 0, uploads: 0, upload_bytes: 0, dispatches: null, bind_groups_created: null, buffers_created: null, queue_writes: null };
  const engine = tf.engine() as unknown as Record<string, unknown>;
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const undo: ((() => void) | null)[] = [
    wrap(engine, 'runKernelFunc', () => c.kernels++),
    wrap(engine, 'makeTensor', (args) => {
      c.uploads++;
      const v = args[0] as { byteLength?: number; length?: number } | null;
      c.upload_bytes += v?.byteLength ?? 0;
    }),
  ];
  if (tf.getBackend() === 'webgpu') {
    const device = backend.device as Record<string, unknown> | undefined;
    const queue = device?.queue as Record<string, unknown> | undefined;
    const passProto = (globalThis as unknown as { GPUComputePassEncoder?: { prototype: Record<string, unknown> } }).GPUComputePassEncoder?.prototype;
    const d = wrap(passProto, 'dispatchWorkgroups', () => (c.dispatches = (c.dispatches ?? 0) + 1));
    const g = wrap(device, 'createBindGroup', () => (c.bind_groups_created = (c.bind_groups_created ?? 0) + 1));
    const b = wrap(device, 'createBuffer', () => (c.buffers_created = (c.buffers_created ?? 0) + 1));
    const q = wrap(queue, 'writeBuffer', () => (c.queue_writes = (c.queue_writes ?? 0) + 1));
    if (d) c.dispatches = 0;
    if (g) c.bind_groups_created = 0;
    if (b) c.buffers_created = 0;
    if (q) c.queue_writes = 0;
    undo.push(d, g, b, q);
  }
  try {
    await fn();
  } finally {
    for (const u of undo) u?.();
  }
  return c;
}
