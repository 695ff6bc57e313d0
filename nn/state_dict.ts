// state_dict export and import in PyTorch's key names and layouts (the contract with official checkpoints).
import * as tf from '@tensorflow/tfjs';
import type { Module } from './module';
import { tfToTorch, torchShape, torchToTf } from './module';
import type { RawTensor } from '../core/safetensors';
import { CheckpointError } from '../core/errors';

/** A state_dict that does not fit the module (shape mismatch, or missing/unexpected keys when strict). */
export class StateDictError extends CheckpointError {}

export interface LoadReport {
  /** Keys of the module that the state_dict did not provide. */
  missing: string[];
  /** Keys of the state_dict that the module does not have. */
  unexpected: string[];
}

export interface LoadOptions {
  /** Fail on missing or unexpected keys (PyTorch's strict=True). Shape mismatches always fail. */
  strict?: boolean;
  /** Name of the source, for error messages. */
  source?: string;
  /**
   * Module keys whose absence never fails strict loading (they are still listed in `missing`).
   * Default: BatchNorm's `num_batches_tracked`, which only matters with momentum=None and which
   * exporters (safetensors fixtures among them) often drop.
   */
  optionalKeys?: RegExp | null;
}

/** The module's tensors in PyTorch layout, as typed arrays, in registration order. */
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

/**
 * Copies `tensors` (PyTorch names and layouts) into the module's variables.
 * Shape mismatches throw, naming every offending key with both shapes; with `strict`, missing and
 * unexpected keys throw too; otherwise they are returned for the caller to report.
 */
export function loadStateDict(module: Module, tensors: Map<string, RawTensor>, opts: LoadOptions = {}): LoadReport {
  const slots = new Map(module.namedSlots());
  const missing = [...slots.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !slots.has(k));
  const mismatched: string[] = [];
  for (const [key, slot] of slots) {
    const t = tensors.get(key);
    if (!t) continue;
    const expected = torchShape(slot.variable.shape, slot.layout);
    if (!same(expected, t.shape)) {
      mismatched.push(`${key}: checkpoint has shape [${t.shape.join(', ')}], model expects [${expected.join(', ')}]`);
    }
  }
  const src = opts.source ? `${opts.source}: ` : '';
  if (mismatched.length) {
    // One line (file first, then each key with both shapes), as every user-facing error.
    const shown = mismatched.length <= 4 ? mismatched : [...mismatched.slice(0, 4), `(+${mismatched.length - 4} more)`];
    throw new StateDictError(`${src}size mismatch for ${mismatched.length} key(s): ${shown.join('; ')}`);
  }
  const optional = opts.optionalKeys === undefined ? /(^|\.)num_batches_tracked$/ : opts.optionalKeys;
  const required = optional ? missing.filter((k) => !optional.test(k)) : missing;
  if (opts.strict && (required.length || unexpected.length)) {
    const parts: string[] = [];
    if (required.length) parts.push(`missing keys (${required.length}): ${required.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    throw new StateDictError(`${src}strict loading failed: ${parts.join('; ')}`);
  }
  for (const [key, slot] of slots) {
    const t = tensors.get(key);
    if (!t) continue;
    tf.tidy(() => {
      const dtype = slot.variable.dtype === 'int32' ? 'int32' : 'float32';
      const src = tf.tensor(Array.isArray(t.data) ? t.data : Float32Array.from(t.data as ArrayLike<number>), t.shape, dtype);
      slot.variable.assign(torchToTf(src, slot.layout));
    });
  }
  return { missing, unexpected };
}

/** Keeps the keys that start with `prefix` (e.g. 'backbone.' of a detector checkpoint), with the prefix stripped. */
export function selectPrefix(tensors: Map<string, RawTensor>, prefix: string): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}
