// Checkpoints: one .safetensors file holding
//   state_dict.<name>               model parameters and buffers, PyTorch layout and names
//   optimizer.state.<name>.<buffer> optimizer state (momentum_buffer / exp_avg / exp_avg_sq), PyTorch layout
// and __metadata__ {format, meta: JSON {iter, epoch, inner_iter, config, rng, scheduler, optimizer,
// seed, metrics, ...}}. Files are written to a temporary name and renamed, so a crash mid-write leaves
// the previous checkpoint intact.
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeSync } from '#platform/fs';
import { basename, dirname, join, resolve } from '#platform/path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../core/errors';
import { type RawTensor, type WriteSafetensorsOptions, readSafetensors, writeSafetensors } from '../core/safetensors';
import { type Module, tfToTorch, torchToTf } from '../nn/module';
import type { Optimizer } from './optimizers';

export const CHECKPOINT_FORMAT = 'tinyvim-dense/checkpoint@1';

export interface CheckpointMeta {
  iter: number;
  epoch: number;
  /** Batches of `epoch` already consumed (0 at epoch boundaries). */
  inner_iter: number;
  seed?: number;
  config?: unknown;
  rng?: unknown;
  scheduler?: Record<string, unknown>;
  optimizer?: Record<string, unknown> & { steps: number };
  metrics?: Record<string, number>;
  best?: { metric: string; value: number; iter: number } | null;
  [key: string]: unknown;
}

export interface LoadedCheckpoint {
  meta: CheckpointMeta | null;
  /** state_dict in PyTorch layout. */
  stateDict: Map<string, RawTensor>;
  /** Optimizer state in PyTorch layout: [param, buffer, tensor]. */
  optimizerState: [string, string, RawTensor][];
}

// Reads back asynchronously: the webgpu backend cannot read GPU memory synchronously in Node.
async function toRaw(t: tf.Tensor): Promise<{ shape: number[]; data: Float32Array | Int32Array | Uint8Array }> {
  return { shape: t.shape, data: (await t.data()) as Float32Array | Int32Array | Uint8Array };
}

/** Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export async function serializeCheckpoint(
  module: Module,
  optimizer: Optimizer | null,
  meta: CheckpointMeta,
  opts: WriteSafetensorsOptions = {},
): Promise<Uint8Array> {
  const tensors: [string, { shape: number[]; data: Float32Array | Int32Array | Uint8Array }][] = [];
  const layouts = new Map(module.namedSlots().map(([n, s]) => [n, s.layout]));
  for (const [name, slot] of module.namedSlots()) {
    const t = tfToTorch(slot.variable, slot.layout);
    tensors.push([`state_dict.${name}`, await toRaw(t)]);
    t.dispose();
  }
  if (optimizer) {
    for (const [name, key, v] of optimizer.stateEntries()) {
      const t = tfToTorch(v, layouts.get(name) ?? 'plain');
      tensors.push([`optimizer.state.${name}.${key}`, await toRaw(t)]);
      t.dispose();
    }
  }
  return writeSafetensors(tensors, { format: CHECKPOINT_FORMAT, meta: JSON.stringify(meta) }, opts);
}

export async function saveCheckpoint(path: string, module: Module, optimizer: Optimizer | null, meta: CheckpointMeta): Promise<void> {
  writeFileAtomic(path, await serializeCheckpoint(module, optimizer, meta));
}

/**
 * Reads a checkpoint. A plain safetensors state_dict (keys without the `state_dict.` prefix, e.g.
 * converted PyTorch weights) is accepted as weights only.
 */
export function readCheckpoint(path: string): LoadedCheckpoint {
  let buf: Uint8Array;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCheckpoint(buf, path);
}

/**
 * Parses checkpoint bytes (a file's, a fetched URL's, an ArrayBuffer's), as readCheckpoint does.
 * `source` names the input in CheckpointError messages.
 */
export function parseCheckpoint(buf: Uint8Array, source = '<buffer>'): LoadedCheckpoint {
  const path = source;
  let file;
  try {
    file = readSafetensors(buf, path);
  } catch (e) {
    throw new CheckpointError((e as Error).message);
  }
  const ours = file.metadata.format === CHECKPOINT_FORMAT;
  let meta: CheckpointMeta | null = null;
  if (ours) {
    try {
      meta = JSON.parse(file.metadata.meta ?? 'null');
    } catch {
      throw new CheckpointError(`${path}: checkpoint metadata is not valid JSON`);
    }
  }
  const stateDict = new Map<string, RawTensor>();
  const optimizerState: [string, string, RawTensor][] = [];
  for (const [k, t] of file.tensors) {
    if (k.startsWith('state_dict.')) stateDict.set(k.slice('state_dict.'.length), t);
    else if (k.startsWith('optimizer.state.')) {
      const rest = k.slice('optimizer.state.'.length);
      const i = rest.lastIndexOf('.');
      optimizerState.push([rest.slice(0, i), rest.slice(i + 1), t]);
    } else if (!ours) stateDict.set(k, t);
  }
  return { meta, stateDict, optimizerState };
}

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  mismatched: string[];
}

function listSome(xs: string[], n = 8): string {
  return xs.length <= n ? xs.join(', ') : `${xs.slice(0, n).join(', ')} (+${xs.length - n} more)`;
}

/**
 * Copies a state_dict (PyTorch layout) into the module. Strict mode (as PyTorch's
 * load_state_dict(strict=True)) throws one CheckpointError listing missing keys, unexpected keys and
 * shape mismatches; non-strict loads what matches and returns the report.
 */
export function loadStateDict(module: Module, stateDict: Map<string, RawTensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
  const strict = opts.strict ?? true;
  const slots = new Map(module.namedSlots());
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
  const toAssign: [tf.Variable, RawTensor, ReturnType<typeof module.namedSlots>[number][1]][] = [];
  for (const [name, slot] of slots) {
    const raw = stateDict.get(name);
    if (!raw) {
      report.missing.push(name);
      continue;
    }
    const tfShape = torchToTfShape(raw.shape, slot.layout);
    if (!tfShape || !tf.util.arraysEqual(tfShape, slot.variable.shape)) {
      report.mismatched.push(`${name} (checkpoint [${raw.shape}], model [${torchShapeOf(slot.variable.shape, slot.layout)}])`);
      continue;
    }
    toAssign.push([slot.variable, raw, slot]);
  }
  for (const k of stateDict.keys()) if (!slots.has(k)) report.unexpected.push(k);
  if (strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
    const parts: string[] = [];
    if (report.missing.length) parts.push(`missing keys: ${listSome(report.missing)}`);
    if (report.unexpected.length) parts.push(`unexpected keys: ${listSome(report.unexpected)}`);
    if (report.mismatched.length) parts.push(`shape mismatches: ${listSome(report.mismatched, 4)}`);
    throw new CheckpointError(`${opts.source ?? 'checkpoint'} does not match the model: ${parts.join('; ')}`);
  }
  for (const [variable, raw, slot] of toAssign) {
    tf.tidy(() => variable.assign(torchToTf(tf.tensor(raw.data as Float32Array, raw.shape, variable.dtype), slot.layout)));
  }
  return report;
}

const PERM: Record<string, number[]> = { conv2d: [2, 3, 1, 0], dwconv: [2, 3, 0, 1], linear: [1, 0], deconv: [2, 3, 1, 0] };

function torchToTfShape(shape: number[], layout: string): number[] | null {
  if (layout === 'plain') return shape;
  const p = PERM[layout];
  return shape.length === p.length ? p.map((i) => shape[i]) : null;
}

function torchShapeOf(tfShape: number[], layout: string): number[] {
  if (layout === 'plain') return tfShape;
  const p = PERM[layout];
  const out = new Array<number>(p.length);
  p.forEach((src, i) => (out[src] = tfShape[i]));
  return out;
}

/** Restores optimizer state saved by saveCheckpoint (PyTorch layout on disk). */
export function loadOptimizerState(module: Module, optimizer: Optimizer, ckpt: LoadedCheckpoint, source: string): void {
  const layouts = new Map(module.namedSlots().map(([n, s]) => [n, s.layout]));
  const entries: [string, string, tf.Tensor][] = [];
  try {
    for (const [name, key, raw] of ckpt.optimizerState) {
      const layout = layouts.get(name);
      if (!layout) throw new CheckpointError(`${source}: optimizer state for unknown parameter '${name}'`);
      entries.push([name, key, tf.tidy(() => torchToTf(tf.tensor(raw.data as Float32Array, raw.shape, 'float32'), layout))]);
    }
    optimizer.loadState(entries, ckpt.meta?.optimizer?.steps ?? 0);
  } catch (e) {
    if (e instanceof CheckpointError && !e.message.startsWith(source)) throw new CheckpointError(`${source}: ${e.message}`);
    throw e;
  } finally {
    tf.dispose(entries.map((e) => e[2]));
  }
}

/** Points `linkPath` at `target` atomically: a relative symlink when possible, else a hard link. */
export function updateLink(linkPath: string, target: string, kind: 'symlink' | 'hardlink' = 'symlink'): void {
  const tmp = join(dirname(linkPath), `.${basename(linkPath)}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  if (kind === 'symlink') {
    try {
      symlinkSync(basename(target), tmp);
    } catch {
      linkSync(target, tmp);
    }
  } else linkSync(target, tmp);
  renameSync(tmp, linkPath);
}

/** The checkpoint to resume from in a work dir: `latest.safetensors`, else the newest iter_/epoch_ file. */
export function findLatestCheckpoint(workDir: string): string | null {
  const latest = join(workDir, 'latest.safetensors');
  if (existsSync(latest)) {
    try {
      return resolve(workDir, readlinkSync(latest));
    } catch {
      return latest;
    }
  }
  if (!existsSync(workDir)) return null;
  const found = readdirSync(workDir)
    .map((f) => /^(iter|epoch)_(\d+)\.safetensors$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[2]) - Number(a[2]));
  return found.length ? join(workDir, found[0][0]) : null;
}
