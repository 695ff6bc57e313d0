// Basic layers with PyTorch's semantics and state_dict names, computing in NHWC.
import * as tf from '@tensorflow/tfjs';
import { Module } from './module';
import { torchDefault } from './init';
import { addLean, batchNormTrainStep, geluLean, layerNormLean, siluLean } from '../ops/fused_ops';

export type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Initialiser for a weight of the given tf shape; fan values as PyTorch computes them. */
export type WeightInit = (shape: number[], fanIn: number, fanOut: number) => tf.Tensor;

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  /** 1 (dense) or equal to inChannels (depth-wise; outChannels must equal inChannels). */
  groups?: number;
  bias?: boolean;
  weightInit?: WeightInit;
  biasInit?: (shape: number[], fanIn: number) => tf.Tensor;
}

/** nn.Conv2d. Keys: `weight` [out, in/groups, kh, kw] in PyTorch, `bias` [out]. */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly depthwise: boolean;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernel = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
    const groups = opts.groups ?? 1;
    if (groups !== 1 && !(groups === inChannels && outChannels === inChannels)) {
      throw new Error(`Conv2d supports groups=1 or depth-wise (groups=in=out); got in=${inChannels} out=${outChannels} groups=${groups}`);
    }
    this.depthwise = groups !== 1;
    const [kh, kw] = this.kernel;
    const fanIn = (inChannels / groups) * kh * kw;
    const fanOut = (outChannels / groups) * kh * kw;
    const init = opts.weightInit ?? ((s, fi) => torchDefault(s, fi));
    const shape = this.depthwise ? [kh, kw, inChannels, 1] : [kh, kw, inChannels, outChannels];
    this.weight = this.param('weight', init(shape, fanIn, fanOut), this.depthwise ? 'dwconv' : 'conv2d');
    this.bias =
      opts.bias === false
        ? null
        : this.param('bias', (opts.biasInit ?? ((s, fi) => torchDefault(s, fi)))([outChannels], fanIn));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [kh, kw] = this.kernel;
    const [ph, pw] = this.padding;
    const [sh, sw] = this.stride;
    let y: tf.Tensor4D;
    if (!this.depthwise && kh === 1 && kw === 1 && sh === 1 && sw === 1 && ph === 0 && pw === 0) {
      // A 1x1 convolution is a matMul over pixels; that path is several times faster on wasm and webgpu.
      const [b, h, w, c] = x.shape;
      const w2 = tf.reshape(this.weight, [c, this.outChannels]) as tf.Tensor2D;
      y = tf.reshape(tf.matMul(tf.reshape(x, [b * h * w, c]) as tf.Tensor2D, w2), [b, h, w, this.outChannels]);
    } else {
      const pad: [[number, number], [number, number], [number, number], [number, number]] = [
        [0, 0],
        [ph, ph],
        [pw, pw],
        [0, 0],
      ];
      y = this.depthwise
        ? tf.depthwiseConv2d(x, this.weight as tf.Tensor4D, this.stride, pad, 'NHWC', this.dilation)
        : tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, pad, 'NHWC', this.dilation);
    }
    // addLean: tf.add would keep the conv output on the tape only for its shape.
    return this.bias ? addLean(y, this.bias) : y;
  }
}

/** nn.ConvTranspose2d with padding 0 (the mask head's 2x2 stride-2 upsampling). Keys: weight [in, out, kh, kw]. */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: { stride?: Pair; bias?: boolean; weightInit?: WeightInit } = {},
  ) {
    super();
    this.kernel = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    const [kh, kw] = this.kernel;
    // PyTorch computes fan_in of a transposed conv weight from dim 1 (= out channels).
    const fanIn = outChannels * kh * kw;
    const fanOut = inChannels * kh * kw;
    const init = opts.weightInit ?? ((s, fi) => torchDefault(s, fi));
    this.weight = this.param('weight', init([kh, kw, outChannels, inChannels], fanIn, fanOut), 'deconv');
    this.bias = opts.bias === false ? null : this.param('bias', torchDefault([outChannels], fanIn));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w] = x.shape;
    const [kh, kw] = this.kernel;
    const [sh, sw] = this.stride;
    const outShape: [number, number, number, number] = [b, (h - 1) * sh + kh, (w - 1) * sw + kw, this.outChannels];
    const y = tf.conv2dTranspose(x, this.weight as tf.Tensor4D, outShape, this.stride, 'valid');
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/** nn.Linear. Keys: weight [out, in], bias [out]. Input [..., in]. */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; weightInit?: WeightInit; biasInit?: (shape: number[], fanIn: number) => tf.Tensor } = {},
  ) {
    super();
    const init = opts.weightInit ?? ((s, fi) => torchDefault(s, fi));
    this.weight = this.param('weight', init([inFeatures, outFeatures], inFeatures, outFeatures), 'linear');
    this.bias =
      opts.bias === false ? null : this.param('bias', (opts.biasInit ?? ((s, fi) => torchDefault(s, fi)))([outFeatures], inFeatures));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
    let y: tf.Tensor = tf.matMul(x2, this.weight as tf.Tensor2D);
    if (this.bias) y = tf.add(y, this.bias);
    return tf.reshape(y, [...lead, this.outFeatures]);
  }
}

/**
 * nn.BatchNorm2d over the channel (last) axis. Training mode normalises with the batch statistics
 * and updates running stats with PyTorch's rule (momentum 0.1, unbiased variance for the running value).
 */
export class BatchNorm2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  constructor(
    readonly numFeatures: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([numFeatures]));
    this.bias = this.param('bias', tf.zeros([numFeatures]));
    this.runningMean = this.buffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.buffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.training) {
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps)));
      const shift = tf.sub(this.bias, tf.mul(this.runningMean, scale));
      return tf.add(tf.mul(x, scale), shift);
    }
    // One tape node saving x, mean and invstd (the composite kept ~4 full-size intermediates).
    return batchNormTrainStep(this, x);
  }
}

/** nn.LayerNorm over the last axis. */
export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = this.param('bias', tf.zeros([dim]));
  }

  forward<T extends tf.Tensor>(x: T): T {
    return layerNormLean(x, this.weight as tf.Tensor1D, this.bias as tf.Tensor1D, this.eps);
  }
}

/** GELU with the exact erf form (PyTorch's default nn.GELU). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return geluLean(x);
}

export function silu<T extends tf.Tensor>(x: T): T {
  return siluLean(x);
}

/** A list of child modules named '0', '1', ... like nn.ModuleList / nn.Sequential. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
}
