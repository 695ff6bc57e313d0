// Re-parameterisable building blocks of TinyViM: Conv2d_BN, RepDW (3x3 / axial 7x1, 1x7),
// Rep_Inception and the FFN, each with the official state_dict names and a `fuse()` that folds it
// into one convolution with bias, as the official deploy path does.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { BatchNorm2d, Conv2d, gelu, type Pair } from '../../nn/layers';
import { addLean, batchNormTrainStep, concatLean } from '../../ops/fused_ops';

/** GELU(m(x)), fusing the BN and GELU of an unfused Conv2d_BN. */
export function convGelu(m: ConvLike, x: tf.Tensor4D): tf.Tensor4D {
  return m instanceof Conv2dBN ? m.forwardGelu(x) : gelu(m.forward(x));
}

/** Anything that maps NHWC to NHWC: an unfused block or the conv it fuses into. */
export interface ConvLike extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** A Conv2d with the given (tf-layout) weight and bias, owning clones of them. */
export function convFromTensors(
  inC: number,
  outC: number,
  kernel: Pair,
  opts: { stride?: Pair; padding?: Pair; depthwise?: boolean },
  weight: tf.Tensor,
  bias: tf.Tensor,
): Conv2d {
  return new Conv2d(inC, outC, kernel, {
    stride: opts.stride,
    padding: opts.padding,
    groups: opts.depthwise ? inC : 1,
    weightInit: () => weight.clone(),
    biasInit: () => bias.clone(),
  });
}

/** Eval-mode BN as y = x * scale + shift (per channel). */
export function bnScaleShift(bn: BatchNorm2d): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.div(bn.weight, tf.sqrt(tf.add(bn.runningVar, bn.eps))) as tf.Tensor1D;
    const shift = tf.sub(bn.bias, tf.mul(bn.runningMean, scale)) as tf.Tensor1D;
    return { scale, shift };
  });
}

/** Multiplies a conv kernel (tf layout) by a per-output-channel factor. */
function scaleKernel(w: tf.Tensor, scale: tf.Tensor1D, depthwise: boolean): tf.Tensor {
  return depthwise ? tf.mul(w, tf.reshape(scale, [1, 1, -1, 1])) : tf.mul(w, scale);
}

/** Conv2d_BN: conv without bias + BatchNorm2d. Keys `c.weight`, `bn.*`. */
export class Conv2dBN extends Module implements ConvLike {
  readonly c: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(
    readonly inC: number,
    readonly outC: number,
    readonly kernel: Pair = 1,
    readonly stride: Pair = 1,
    readonly padding: Pair = 0,
    readonly depthwise = false,
  ) {
    super();
    this.c = this.child('c', new Conv2d(inC, outC, kernel, { stride, padding, groups: depthwise ? inC : 1, bias: false }));
    this.bn = this.child('bn', new BatchNorm2d(outC));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.bn.forward(this.c.forward(x));
  }

  /** GELU(forward(x)); in training mode one fused BN + GELU tape node (the BN output is not kept). */
  forwardGelu(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => (this.bn.training ? batchNormTrainStep(this.bn, this.c.forward(x), 'gelu') : gelu(this.forward(x))));
  }

  /** Weight and bias of the equivalent single conv (tf layout). */
  fusedTensors(): { weight: tf.Tensor; bias: tf.Tensor } {
    return tf.tidy(() => {
      const { scale, shift } = bnScaleShift(this.bn);
      return { weight: scaleKernel(this.c.weight, scale, this.depthwise), bias: shift };
    });
  }

  fuse(): Conv2d {
    const { weight, bias } = this.fusedTensors();
    const conv = convFromTensors(this.inC, this.outC, this.kernel, { stride: this.stride, padding: this.padding, depthwise: this.depthwise }, weight, bias);
    tf.dispose([weight, bias]);
    return conv;
  }
}

/**
 * RepDW: BN(dwconv_k(x) + dw1x1(x) + x) with a depth-wise k-kernel Conv2d_BN ('conv'), a depth-wise
 * 1x1 conv with bias ('conv1') and a BN ('bn'). kernel 3x3 is the official RepDW; (7,1) / (1,7) is
 * RepDW_Axias (used inside Rep_Inception), whose children are registered in the order conv1, conv, bn.
 */
export class RepDW extends Module implements ConvLike {
  readonly conv: Conv2dBN;
  readonly conv1: Conv2d;
  readonly bn: BatchNorm2d;
  readonly kernel: [number, number];
  readonly padding: [number, number];

  constructor(
    readonly dim: number,
    kernel: Pair = 3,
    axial = false,
  ) {
    super();
    this.kernel = pair(kernel);
    this.padding = [(this.kernel[0] - 1) / 2, (this.kernel[1] - 1) / 2];
    const make = () => new Conv2dBN(dim, dim, this.kernel, 1, this.padding, true);
    if (axial) {
      this.conv1 = this.child('conv1', new Conv2d(dim, dim, 1, { groups: dim }));
      this.conv = this.child('conv', make());
    } else {
      this.conv = this.child('conv', make());
      this.conv1 = this.child('conv1', new Conv2d(dim, dim, 1, { groups: dim }));
    }
    this.bn = this.child('bn', new BatchNorm2d(dim));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.bn.forward(addLean(addLean(this.conv.forward(x), this.conv1.forward(x)), x)));
  }

  fuse(): Conv2d {
    const [kh, kw] = this.kernel;
    const [ph, pw] = this.padding;
    const { weight, bias } = tf.tidy(() => {
      const main = this.conv.fusedTensors();
      // The 1x1 branch and the identity sit at the kernel centre.
      const pad: [number, number][] = [
        [ph, kh - 1 - ph],
        [pw, kw - 1 - pw],
        [0, 0],
        [0, 0],
      ];
      const w1 = tf.pad(this.conv1.weight, pad);
      const id = tf.pad(tf.ones([1, 1, this.dim, 1]), pad);
      const w = tf.add(tf.add(main.weight, w1), id);
      const b = tf.add(main.bias, this.conv1.bias as tf.Tensor);
      const { scale, shift } = bnScaleShift(this.bn);
      return { weight: scaleKernel(w, scale, true), bias: tf.add(tf.mul(b, scale), shift) };
    });
    const conv = convFromTensors(this.dim, this.dim, this.kernel, { padding: this.padding, depthwise: true }, weight, bias);
    tf.dispose([weight, bias]);
    return conv;
  }
}

/**
 * Rep_Inception: the first C - C/2 channels go through a (7,1) RepDW ('dwconv_w'), the last C/2
 * through a (1,7) one ('dwconv_h'); outputs are concatenated in that order.
 */
export class RepInception extends Module implements ConvLike {
  dwconvH: ConvLike;
  dwconvW: ConvLike;
  readonly splitW: number;

  constructor(readonly dim: number) {
    super();
    const half = Math.floor(dim / 2);
    this.splitW = dim - half;
    this.dwconvH = this.child('dwconv_h', new RepDW(half, [1, 7], true));
    this.dwconvW = this.child('dwconv_w', new RepDW(this.splitW, [7, 1], true));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [a, b] = tf.split(x, [this.splitW, this.dim - this.splitW], 3) as tf.Tensor4D[];
      return concatLean([this.dwconvW.forward(a), this.dwconvH.forward(b)], 3);
    });
  }

  fuse(): void {
    if (this.dwconvH instanceof RepDW) this.dwconvH = this.replaceChild('dwconv_h', this.dwconvH.fuse());
    if (this.dwconvW instanceof RepDW) this.dwconvW = this.replaceChild('dwconv_w', this.dwconvW.fuse());
  }
}

/** The FFN ('mlp'): Conv2d_BN 1x1 (C -> hidden), GELU, Conv2d_BN 1x1 (hidden -> C). */
export class FFN extends Module implements ConvLike {
  fc1: ConvLike;
  fc2: ConvLike;
  constructor(
    readonly dim: number,
    readonly hidden: number,
  ) {
    super();
    this.fc1 = this.child('fc1', new Conv2dBN(dim, hidden));
    this.fc2 = this.child('fc2', new Conv2dBN(hidden, dim));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.fc2.forward(convGelu(this.fc1, x)));
  }

  fuse(): void {
    if (this.fc1 instanceof Conv2dBN) this.fc1 = this.replaceChild('fc1', this.fc1.fuse());
    if (this.fc2 instanceof Conv2dBN) this.fc2 = this.replaceChild('fc2', this.fc2.fuse());
  }
}
