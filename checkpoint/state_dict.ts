// state_dict export and import in PyTorch's key names and layouts (the contract with official
// checkpoints): the one `loadStateDict` of the project, used for init_cfg backbones, load_from,
// resume, tools/eval --checkpoint and the inference API alike.
import * as tf from '@tensorflow/tfjs';
import { CheckpointError } from '../core/errors';
import { type Module, type Slot, tfToTorch, torchShape, torchToTf } from '../nn/module';
import type { RawTensor } from './formats/safetensors';

/** A state_dict that does not fit the module (shape mismatch, or missing/unexpected keys when strict). */
export class StateDictError extends CheckpointError {}

export interface LoadReport {
  /** Keys of the module that the state_dict did not provide. */
  missing: string[];
  /** Keys of the state_dict that the module does not have. */
  unexpected: string[];
  /** Keys present on both sides with different shapes, as `key (checkpoint [..], model [..])` (PyTorch layout); not loaded. */
  mismatched: string[];
}

export interface LoadOptions {
  /** Fail on missing or unexpected keys (PyTorch's strict=True). Default true. */
  strict?: boolean;
  /**
   * What a shape mismatch does when not strict: 'error' (default; PyTorch raises even with
   * strict=False) or 'skip' (mmcv's load_state_dict: reported in `mismatched`, the key keeps its value).
   * Strict loading always fails on a mismatch.
   */
  mismatch?: 'error' | 'skip';
  /** Name of the source, for error messages. */
  source?: string;
  /**
   * Module keys whose absence never fails strict loading (they are still listed in `missing`).
   * Default: BatchNorm's `num_batches_tracked`, which only matters with momentum=None and which
   * exporters (safetensors fixtures among them) often drop.
   */
  optionalKeys?: RegExp | null;
}

/** The module's tensors in PyTorch layout, as typed arrays, in registration order (synchronous reads). */
export function stateDict(module: Module, prefix = ''): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [name, slot] of module.namedSlots(prefix)) {
    const t = tfToTorch(slot.variable, slot.layout);
    const data = t.dtype === 'int32' ? (t.dataSync() as Int32Array) : (t.dataSync() as Float32Array);
    out.set(name, { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: t.shape, data: data.slice() });
    t.dispose();
  }
  return out;
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function listSome(xs: string[], n = 8): string {
  return xs.length <= n ? xs.join(', ') : `${xs.slice(0, n).join(', ')} (+${xs.length - n} more)`;
}

/** Raw data as the typed array of the variable's dtype (pth int64/float64 tensors are converted). */
function typedFor(raw: RawTensor, dtype: 'float32' | 'int32'): Float32Array | Int32Array {
  if (dtype === 'float32') return raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data as ArrayLike<number>, Number);
  return raw.data instanceof Int32Array ? raw.data : Int32Array.from(raw.data as ArrayLike<number>, Number);
}

/**
 * Copies `tensors` (PyTorch names and layouts) into the module's variables (mmcv's load_state_dict).
 * Strict loading throws one StateDictError ("<source> does not match the model: missing keys: ...;
 * unexpected keys: ...; shape mismatches: key (checkpoint [..], model [..])") and loads nothing;
 * otherwise what matches is loaded and the rest returned for the caller to report.
 */
export function loadStateDict(module: Module, tensors: Map<string, RawTensor>, opts: LoadOptions = {}): LoadReport {
  const strict = opts.strict ?? true;
  const slots = new Map(module.namedSlots());
  const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
  const toAssign: [tf.Variable, RawTensor, Slot][] = [];
  for (const [key, slot] of slots) {
    const raw = tensors.get(key);
    if (!raw) {
      report.missing.push(key);
      continue;
    }
    const expected = torchShape(slot.variable.shape, slot.layout);
    if (!same(expected, raw.shape)) {
      report.mismatched.push(`${key} (checkpoint [${raw.shape}], model [${expected}])`);
      continue;
    }
    toAssign.push([slot.variable, raw, slot]);
  }
  for (const k of tensors.keys()) if (!slots.has(k)) report.unexpected.push(k);
  const optional = opts.optionalKeys === undefined ? /(^|\.)num_batches_tracked$/ : opts.optionalKeys;
  const required = optional ? report.missing.filter((k) => !optional.test(k)) : report.missing;
  const failMismatch = report.mismatched.length > 0 && (strict || (opts.mismatch ?? 'error') === 'error');
  if (failMismatch || (strict && (required.length || report.unexpected.length))) {
    const parts: string[] = [];
    if (strict && required.length) parts.push(`missing keys: ${listSome(required)}`);
    if (strict && report.unexpected.length) parts.push(`unexpected keys: ${listSome(report.unexpected)}`);
    if (report.mismatched.length) parts.push(`shape mismatches: ${report.mismatched.join(', ')}`);
    throw new StateDictError(`${opts.source ?? 'checkpoint'} does not match the model: ${parts.join('; ')}`);
  }
  for (const [variable, raw, slot] of toAssign) {
    const dtype = variable.dtype === 'int32' ? 'int32' : 'float32';
    tf.tidy(() => variable.assign(torchToTf(tf.tensor(typedFor(raw, dtype), raw.shape, dtype), slot.layout)));
  }
  return report;
}

/** Keeps the keys that start with `prefix` (e.g. 'backbone.' of a detector checkpoint), with the prefix stripped. */
export function selectPrefix(tensors: Map<string, RawTensor>, prefix: string): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

/** 'backbone.' when any key has it (detector checkpoints), 'module.' when every key has it (DataParallel), else ''. */
export function detectPrefix(keys: string[]): string {
  if (keys.some((k) => k.startsWith('backbone.'))) return 'backbone.';
  if (keys.length && keys.every((k) => k.startsWith('module.'))) return 'module.';
  return '';
}
