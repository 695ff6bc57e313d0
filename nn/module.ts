// A PyTorch-like module tree over tf.Variables.
//
// Why not tf.layers: the detectors are dynamic (per-image proposals, sampling), and the state_dict
// key names of the official PyTorch checkpoints are the contract for weight import. A module tree
// whose dotted names mirror PyTorch's gives both: `namedParameters()` yields exactly the keys of
// `model.state_dict()`, and each tensor knows how to convert between PyTorch's layout and ours.
import * as tf from '@tensorflow/tfjs';

/**
 * How a tensor is laid out in PyTorch versus here (NHWC convention).
 * - 'plain': identical.
 * - 'conv2d': torch [out, in, kh, kw]  <-> tf [kh, kw, in, out]
 * - 'dwconv': torch [C, 1, kh, kw]     <-> tf [kh, kw, C, 1]
 * - 'linear': torch [out, in]          <-> tf [in, out]
 * - 'deconv': torch [in, out, kh, kw]  <-> tf [kh, kw, out, in]   (ConvTranspose2d / conv2dTranspose)
 */
export type TorchLayout = 'plain' | 'conv2d' | 'dwconv' | 'linear' | 'deconv';

const TO_TF_PERM: Record<Exclude<TorchLayout, 'plain'>, number[]> = {
  conv2d: [2, 3, 1, 0],
  dwconv: [2, 3, 0, 1],
  linear: [1, 0],
  deconv: [2, 3, 1, 0],
};

/** Inverse of a permutation: perm[inv[i]] = i. */
function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

export function torchToTf(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  return layout === 'plain' ? t.clone() : tf.transpose(t, TO_TF_PERM[layout]);
}

export function tfToTorch(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  return layout === 'plain' ? t.clone() : tf.transpose(t, invert(TO_TF_PERM[layout]));
}

export function torchShape(tfShape: number[], layout: TorchLayout): number[] {
  if (layout === 'plain') return [...tfShape];
  const inv = invert(TO_TF_PERM[layout]);
  return inv.map((i) => tfShape[i]);
}

/** A registered tensor of a module: a trainable parameter or a buffer (e.g. BN running stats). */
export interface Slot {
  variable: tf.Variable;
  layout: TorchLayout;
  kind: 'param' | 'buffer';
}

/**
 * mm's `init_cfg: {type: 'Pretrained', checkpoint, prefix?}` recorded on a module built from a config.
 * Modules never read files: checkpoint/init_cfg loads it after the whole model is built.
 */
/**
 * Which entry of a training checkpoint holds the weights: 'auto' takes `state_dict`, else `model`
 * (mmcv/mmdet checkpoints, and the official TinyViM main.py's `{'model', 'optimizer', 'lr_scheduler',
 * 'epoch', 'model_ema', 'scaler', 'args'}`), else the root dict itself; an explicit key (e.g.
 * 'model_ema' for the EMA weights) must be present.
 */
export type CheckpointKey = 'auto' | 'state_dict' | 'model' | 'model_ema';
export const CHECKPOINT_KEYS: readonly CheckpointKey[] = ['auto', 'state_dict', 'model', 'model_ema'];

export interface PretrainedSpec {
  checkpoint: string;
  prefix?: string;
  /** Entry of a training checkpoint holding the weights (default 'auto'). */
  checkpoint_key?: CheckpointKey;
}

export class Module {
  /** Training mode: BatchNorm uses batch statistics and updates its running stats. */
  training = true;
  /** Weights to load into this module after the model is built (see PretrainedSpec); null for none. */
  pretrained: PretrainedSpec | null = null;
  private readonly slots = new Map<string, Slot>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable parameter, initialised from `init` (which this call takes ownership of). */
  protected param(name: string, init: tf.Tensor, layout: TorchLayout = 'plain'): tf.Variable {
    return this.addSlot(name, init, layout, 'param', true);
  }

  /** Registers a non-trainable buffer (running stats, counters). */
  protected buffer(name: string, init: tf.Tensor, layout: TorchLayout = 'plain'): tf.Variable {
    return this.addSlot(name, init, layout, 'buffer', false);
  }

  /** Registers a child module under `name` (use numeric strings for list members, as nn.Sequential). */
  protected child<M extends Module>(name: string, module: M): M {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`duplicate module name '${name}'`);
    this.children.set(name, module);
    return module;
  }

  /**
   * Replaces the child registered as `name` (same position in the key order), disposing the old
   * child's tensors. Used by re-parameterisation, which swaps a Conv+BN pair for one fused conv.
   */
  protected replaceChild<M extends Module>(name: string, module: M): M {
    const old = this.children.get(name);
    if (!old) throw new Error(`no child module named '${name}' to replace`);
    if (old !== (module as Module)) old.dispose();
    this.children.set(name, module);
    return module;
  }

  private addSlot(name: string, init: tf.Tensor, layout: TorchLayout, kind: Slot['kind'], trainable: boolean): tf.Variable {
    if (this.slots.has(name) || this.children.has(name)) throw new Error(`duplicate tensor name '${name}'`);
    const variable = tf.variable(init, trainable);
    init.dispose();
    this.slots.set(name, { variable, layout, kind });
    return variable;
  }

  /** Direct children, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children.entries()];
  }

  /** All tensors with PyTorch-style dotted names, in registration order (params and buffers interleaved as registered). */
  namedSlots(prefix = ''): [string, Slot][] {
    const out: [string, Slot][] = [];
    for (const [name, slot] of this.slots) out.push([prefix + name, slot]);
    for (const [name, child] of this.children) out.push(...child.namedSlots(`${prefix}${name}.`));
    return out;
  }

  namedParameters(prefix = ''): [string, tf.Variable][] {
    return this.namedSlots(prefix)
      .filter(([, s]) => s.kind === 'param')
      .map(([n, s]) => [n, s.variable]);
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, child] of this.children) out.push(...child.namedModules(`${prefix}${name}.`));
    return out;
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Number of scalar elements in trainable parameters. */
  numParameters(): number {
    return this.parameters().reduce((acc, v) => acc + v.size, 0);
  }

  dispose(): void {
    for (const [, slot] of this.namedSlots()) slot.variable.dispose();
  }
}
