// The one reader and writer of weight files. Reads, detected by content and not by extension:
//   - torch.save zips (.pth/.pt/.bin; a bare state_dict or one under 'state_dict' / 'model'), read
//     safely by formats/pth (no arbitrary unpickling);
//   - safetensors state_dicts (converted PyTorch weights; our saveStateDictFile output);
//   - our training checkpoints: safetensors with `state_dict.*` and `optimizer.state.*` tensors and
//     JSON metadata (iteration, schedule, rng, metrics) under format CHECKPOINT_FORMAT.
// Writes our checkpoints atomically. Module <-> state_dict copying is in ./state_dict.
import { readFileSync, writeFileSync } from '#platform/fs';
import { basename, dirname, join } from '#platform/path';
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../core/errors';
import { fileError, writeFileAtomic as writeAtomic } from '../core/fsio';
import { type CheckpointKey, type Module, tfToTorch, torchToTf } from '../nn/module';
import { readTorchZip } from './formats/pth';
import { type RawTensor, type WriteSafetensorsOptions, readSafetensors, writeSafetensors } from './formats/safetensors';
import { looksLikeZip, ZipError } from './formats/zip';
import { stateDict } from './state_dict';

export type { RawTensor };

export const CHECKPOINT_FORMAT = 'tinyvim-dense/checkpoint@1';

export type CheckpointFormat = 'pth' | 'safetensors';

/** Training state stored with our checkpoints (JSON in the safetensors metadata). */
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
  format: CheckpointFormat;
  /** Training state of our checkpoints; null for plain weights (.pth, converted safetensors). */
  meta: CheckpointMeta | null;
  /** state_dict in PyTorch names and layout. */
  stateDict: Map<string, RawTensor>;
  /** Optimizer state in PyTorch layout: [param, buffer, tensor] (empty for plain weights). */
  optimizerState: [string, string, RawTensor][];
  /** Which wrapper key of a .pth held the state_dict ('state_dict', 'model') or '' for a bare one. */
  wrapper: string;
  /** safetensors `__metadata__` (empty for .pth). */
  metadata: Record<string, string>;
}

const isRawTensor = (v: unknown): v is RawTensor =>
  typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as RawTensor).data);

export { CHECKPOINT_KEYS, type CheckpointKey } from '../nn/module';

/** The state_dict inside an unpickled checkpoint: a bare dict of tensors, or one under 'state_dict' / 'model' (or the asked key). */
function unwrap(root: unknown, source: string, key: CheckpointKey = 'auto'): { tensors: Map<string, RawTensor>; wrapper: string } {
  if (!(root instanceof Map)) throw new CheckpointError(`${source}: the checkpoint holds no dict (expected a state_dict, possibly under 'state_dict' or 'model')`);
  let dict = root as Map<unknown, unknown>;
  let wrapper = '';
  if (key !== 'auto') {
    const inner = dict.get(key);
    if (!(inner instanceof Map)) {
      const have = [...dict.keys()].filter((k) => typeof k === 'string' && dict.get(k) instanceof Map);
      throw new CheckpointError(`${source}: checkpoint key '${key}' asked for, but the checkpoint has no dict under it (dict entries: ${have.join(', ') || 'none'})`);
    }
    dict = inner as Map<unknown, unknown>;
    wrapper = key;
  } else {
    for (const k of ['state_dict', 'model']) {
      const inner = dict.get(k);
      if (inner instanceof Map && ![...dict.values()].some(isRawTensor)) {
        dict = inner as Map<unknown, unknown>;
        wrapper = k;
        break;
      }
    }
  }
  const tensors = new Map<string, RawTensor>();
  for (const [k, v] of dict) if (typeof k === 'string' && isRawTensor(v)) tensors.set(k, v);
  if (!tensors.size) throw new CheckpointError(`${source}: no tensors found in the checkpoint${wrapper ? ` (under '${wrapper}')` : ''}`);
  return { tensors, wrapper };
}

/** Splits a safetensors file into state_dict / optimizer state (ours) or takes it as a bare state_dict. */
function fromSafetensors(buf: Uint8Array, source: string): LoadedCheckpoint {
  let file;
  try {
    file = readSafetensors(buf, source);
  } catch (e) {
    throw new CheckpointError(`${(e as Error).message} (expected a torch zip checkpoint (.pth) or safetensors)`);
  }
  const ours = file.metadata.format === CHECKPOINT_FORMAT;
  let meta: CheckpointMeta | null = null;
  if (ours) {
    try {
      meta = JSON.parse(file.metadata.meta ?? 'null');
    } catch {
      throw new CheckpointError(`${source}: checkpoint metadata is not valid JSON`);
    }
  }
  const sd = new Map<string, RawTensor>();
  const optimizerState: [string, string, RawTensor][] = [];
  for (const [k, t] of file.tensors) {
    if (ours && k.startsWith('state_dict.')) sd.set(k.slice('state_dict.'.length), t);
    else if (ours && k.startsWith('optimizer.state.')) {
      const rest = k.slice('optimizer.state.'.length);
      const i = rest.lastIndexOf('.');
      optimizerState.push([rest.slice(0, i), rest.slice(i + 1), t]);
    } else if (!ours) sd.set(k, t);
  }
  return { format: 'safetensors', meta, stateDict: sd, optimizerState, wrapper: '', metadata: file.metadata };
}

/**
 * The class names stored with the weights (label k = names[k]), or null when there are none.
 * The runner writes mmdet's `meta.CLASSES`; tools/export_weights and the test fixtures of earlier
 * versions wrote `meta.classes`: both are read, CLASSES first.
 */
export function checkpointClasses(meta: CheckpointMeta | null | undefined): string[] | null {
  for (const c of [meta?.CLASSES, meta?.classes]) {
    if (Array.isArray(c) && c.length && c.every((x) => typeof x === 'string')) return [...(c as string[])];
  }
  return null;
}

/**
 * Parses a checkpoint already in memory; `source` names it in errors; `key` picks the weights entry
 * of a .pth training checkpoint (default 'auto': state_dict, else model). Throws CheckpointError.
 */
export function parseCheckpoint(buf: Uint8Array, source = '<buffer>', key: CheckpointKey = 'auto'): LoadedCheckpoint {
  if (looksLikeZip(buf)) {
    let root: unknown;
    try {
      ({ root } = readTorchZip(buf, source));
    } catch (e) {
      // A truncated or damaged download: the zip reader's structural errors (and reads past the end
      // of the buffer) say so in one line; our own refusals (CheckpointError) pass through.
      if (e instanceof ZipError || e instanceof RangeError) {
        const msg = (e as Error).message;
        const detail = msg.startsWith(`${source}: `) ? msg.slice(source.length + 2) : msg;
        throw new CheckpointError(`${source}: truncated or corrupt torch checkpoint (${detail}); download or save it again`);
      }
      throw e;
    }
    const { tensors, wrapper } = unwrap(root, source, key);
    return { format: 'pth', meta: null, stateDict: tensors, optimizerState: [], wrapper, metadata: {} };
  }
  if (buf[0] === 0x80 && buf.byteLength > 2 && buf[1] <= 5) {
    throw new CheckpointError(`${source}: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with torch >= 1.6 (the default zip format)`);
  }
  if (key !== 'auto' && key !== 'state_dict' && key !== 'model')
    throw new CheckpointError(`${source}: checkpoint key '${key}' asked for, but a safetensors file holds one state_dict`);
  return fromSafetensors(buf, source);
}

/**
 * Reads any weight file the project accepts (.pth zip, safetensors state_dict, our checkpoint).
 * Throws CheckpointError naming the file when it cannot be read or parsed.
 */
export function readCheckpoint(path: string, key: CheckpointKey = 'auto'): LoadedCheckpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw fileError(e, path, 'read the checkpoint');
  }
  return parseCheckpoint(buf, path, key);
}

/** The temp name a process writes `path` under before renaming: `.<name>.tmp-<pid>`. */
export function tempPathFor(path: string, pid = process.pid): string {
  return join(dirname(path), `.${basename(path)}.tmp-${pid}`);
}

/**
 * Writes `bytes` to `path` atomically: temp file in the same folder, fsync, rename. A failure (full
 * disk, permissions) removes the partial temp file, leaves `path` as it was and throws FileError.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  writeAtomic(path, bytes, tempPathFor(path));
}

/** Names of float tensors holding NaN or Inf (state_dict keys, then `optimizer.<param>.<buffer>`). */
export function nonFiniteTensors(ck: LoadedCheckpoint): string[] {
  const bad: string[] = [];
  const hasBad = (t: RawTensor) => {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) return false;
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) return true;
    return false;
  };
  for (const [k, t] of ck.stateDict) if (hasBad(t)) bad.push(k);
  for (const [n, k, t] of ck.optimizerState) if (hasBad(t)) bad.push(`optimizer.${n}.${k}`);
  return bad;
}

/**
 * Refuses a checkpoint with NaN/Inf values (a diverged run saved as if it were good): evaluating or
 * resuming it only spreads the NaNs. Throws CheckpointError naming the first tensors; `override`
 * names the flag that skips the check.
 */
export function assertFiniteCheckpoint(ck: LoadedCheckpoint, path: string, override = '--allow-nonfinite'): void {
  const bad = nonFiniteTensors(ck);
  if (bad.length) {
    const shown = bad.length <= 3 ? bad.join(', ') : `${bad.slice(0, 3).join(', ')} (+${bad.length - 3} more)`;
    throw new CheckpointError(`${path}: ${bad.length} tensor(s) hold NaN/Inf values (first: ${shown}); the run that wrote it diverged. Use an earlier checkpoint, or pass ${override} to load it anyway`);
  }
}

/** What the checkpoint needs of an optimizer: its slot variables by [param, buffer] and a way to restore them. */
export interface OptimizerState {
  stateEntries(): [string, string, tf.Variable][];
  loadState(entries: [string, string, tf.Tensor][], steps: number): void;
}

// Reads back asynchronously: the webgpu backend cannot read GPU memory synchronously in Node.
async function toRaw(t: tf.Tensor): Promise<{ shape: number[]; data: Float32Array | Int32Array | Uint8Array }> {
  return { shape: t.shape, data: (await t.data()) as Float32Array | Int32Array | Uint8Array };
}

/** Our checkpoint bytes: state_dict (PyTorch layout), optimizer state and `meta` as safetensors. */
/** Our checkpoint's bytes; `opts.f16` stores float32 tensors as float16 (half the size, e.g. for browsers). */
export async function serializeCheckpoint(
  module: Module,
  optimizer: OptimizerState | null,
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

/** Writes our checkpoint to `path` atomically. */
export async function saveCheckpoint(path: string, module: Module, optimizer: OptimizerState | null, meta: CheckpointMeta): Promise<void> {
  writeFileAtomic(path, await serializeCheckpoint(module, optimizer, meta));
}

/**
 * Saves a module's state_dict alone: safetensors with PyTorch key names and layouts (so PyTorch's
 * `safetensors.torch.load_file` + `load_state_dict` reads it too), int32 BN counters, and string
 * metadata (e.g. {arch: 'TinyViM_S'}).
 */
export function saveStateDictFile(module: Module, path: string, metadata: Record<string, string> = {}): void {
  writeFileSync(path, writeSafetensors(stateDict(module), { format: 'pt', ...metadata }));
}

/** Restores optimizer state saved by saveCheckpoint (PyTorch layout on disk). Throws CheckpointError naming `source`. */
export function loadOptimizerState(module: Module, optimizer: OptimizerState, ckpt: LoadedCheckpoint, source: string): void {
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
