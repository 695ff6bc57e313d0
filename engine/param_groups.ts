// Per-parameter learning-rate and weight-decay multipliers, with mmcv's DefaultOptimizerConstructor
// rules: a `custom_keys` entry whose key is a substring of the parameter name wins (longest key
// first, ties alphabetical); otherwise biases of non-norm layers get bias_*_mult, weights and biases
// of normalisation layers get norm_decay_mult, depth-wise conv weights get dwconv_decay_mult.
import type * as tf from '@tensorflow/tfjs';
import type { ParamwiseConfig } from '../core/config_root';
import type { Module, TorchLayout } from '../nn/module';

export interface ParamEntry {
  /** PyTorch-style dotted name (state_dict key). */
  name: string;
  variable: tf.Variable;
  layout: TorchLayout;
  /** Base learning rate of this parameter (optimizer lr times lr_mult) before scheduling. */
  baseLr: number;
  weightDecay: number;
}

/**
 * A module counts as a normalisation layer if it says so (`isNorm = true`) or its class is one of
 * PyTorch's norm families by name; mmcv tests isinstance against the same families.
 */
export function isNormModule(m: Module): boolean {
  const flag = (m as unknown as { isNorm?: unknown }).isNorm;
  if (typeof flag === 'boolean') return flag;
  return /(Batch|Layer|Group|Instance|SyncBatch)Norm/.test(m.constructor.name);
}

export function buildParamEntries(module: Module, lr: number, weightDecay: number, paramwise: ParamwiseConfig = {}): ParamEntry[] {
  const custom = paramwise.custom_keys ?? {};
  const keys = Object.keys(custom).sort().sort((a, b) => b.length - a.length);
  const out: ParamEntry[] = [];
  for (const [modName, m] of module.namedModules()) {
    const norm = isNormModule(m);
    for (const [slotName, slot] of m.namedSlots()) {
      // namedSlots() of a module includes its descendants; take only the module's own tensors.
      if (slotName.includes('.') || slot.kind !== 'param' || !slot.variable.trainable) continue;
      const name = modName ? `${modName}.${slotName}` : slotName;
      let lrMult = 1;
      let decayMult = 1;
      const key = keys.find((k) => name.includes(k));
      if (key !== undefined) {
        lrMult = custom[key].lr_mult ?? 1;
        decayMult = custom[key].decay_mult ?? 1;
      } else if (norm) {
        decayMult = paramwise.norm_decay_mult ?? 1;
      } else if (slotName === 'bias') {
        lrMult = paramwise.bias_lr_mult ?? 1;
        decayMult = paramwise.bias_decay_mult ?? 1;
      } else if (slot.layout === 'dwconv') {
        decayMult = paramwise.dwconv_decay_mult ?? 1;
      }
      out.push({ name, variable: slot.variable, layout: slot.layout, baseLr: lr * lrMult, weightDecay: weightDecay * decayMult });
    }
  }
  return out;
}
