// Per-parameter learning-rate and weight-decay multipliers, with mmcv 1.x DefaultOptimizerConstructor
// precedence (add_params): a `custom_keys` entry whose key is a substring of the parameter name wins
// (longest key first, ties alphabetical) and no other rule applies; otherwise
//   lr:    biases of non-norm layers get bias_lr_mult (a depth-wise conv's bias too);
//   decay: norm layers (weight and bias) norm_decay_mult, else depth-wise conv layers (weight AND
//          bias: the test is on the module, in_channels == groups) dwconv_decay_mult, else biases
//          bias_decay_mult.
import type * as tf from '@tensorflow/tfjs';
import type { ParamwiseConfig } from '../core/config_root';
import { Conv2d } from '../nn/layers';
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
    // mmcv: isinstance(module, Conv2d) and in_channels == groups: depth-wise convs, and (groups 1) a
    // conv with one input channel.
    const dwconv = m instanceof Conv2d && (m.depthwise || m.inChannels === 1);
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
      } else {
        if (slotName === 'bias' && !norm) lrMult = paramwise.bias_lr_mult ?? 1;
        if (norm) decayMult = paramwise.norm_decay_mult ?? 1;
        else if (dwconv) decayMult = paramwise.dwconv_decay_mult ?? 1;
        else if (slotName === 'bias') decayMult = paramwise.bias_decay_mult ?? 1;
      }
      out.push({ name, variable: slot.variable, layout: slot.layout, baseLr: lr * lrMult, weightDecay: weightDecay * decayMult });
    }
  }
  return out;
}
