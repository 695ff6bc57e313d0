// mmseg 0.30 FPNHead (Semantic FPN decode head): one scale head per input level, made of
// max(1, log2(stride_i / stride_0)) ConvModule(3x3, conv-norm-ReLU) blocks each followed by a 2x
// bilinear upsampling (except on the finest level); the levels are summed at the finest resolution,
// then Dropout2d and a 1x1 classifier `conv_seg`.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Conv2d } from '../../nn/layers';
import { normal, uniform } from '../../nn/init';
import { ConvModule, type NormCfg } from '../../nn/conv_module';
import { ConfigError } from '../../core/errors';
import { resizeBilinear } from '../../ops/resize';

export interface FPNHeadOptions {
  in_channels: number[];
  in_index?: number[];
  feature_strides: number[];
  channels: number;
  num_classes: number;
  dropout_ratio?: number;
  /** SyncBN in the recipe: statistics over all ranks under --launcher mpi; plain BatchNorm in one process. */
  norm_cfg?: NormCfg | null;
  align_corners?: boolean;
}

/** One level's `nn.Sequential`: convs at the indices PyTorch gives them (Upsample entries have no weights). */
class ScaleHead extends Module {
  readonly convs: ConvModule[] = [];
  constructor(
    inChannels: number,
    channels: number,
    length: number,
    readonly upsample: boolean,
    norm: NormCfg | null,
    readonly alignCorners: boolean,
  ) {
    super();
    for (let k = 0; k < length; k++) {
      const name = String(upsample ? 2 * k : k);
      this.convs.push(this.child(name, new ConvModule(k === 0 ? inChannels : channels, channels, { kernelSize: 3, padding: 1, norm, act: 'ReLU' })));
    }
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    for (const conv of this.convs) {
      y = conv.forward(y);
      if (this.upsample) y = resizeBilinear(y, [y.shape[1] * 2, y.shape[2] * 2], this.alignCorners);
    }
    return y;
  }
}

export class FPNHead extends Module {
  readonly inChannels: number[];
  readonly inIndex: number[];
  readonly featureStrides: number[];
  readonly channels: number;
  readonly numClasses: number;
  readonly dropoutRatio: number;
  readonly alignCorners: boolean;
  readonly scaleHeads: ScaleHead[] = [];
  readonly convSeg: Conv2d;

  constructor(opts: FPNHeadOptions) {
    super();
    const { in_channels, feature_strides } = opts;
    if (in_channels.length !== feature_strides.length) {
      throw new ConfigError(`decode_head.in_channels has ${in_channels.length} entries but feature_strides has ${feature_strides.length}`, 'decode_head.feature_strides');
    }
    const sorted = feature_strides.every((s, i) => i === 0 || s > feature_strides[i - 1]);
    if (!sorted) throw new ConfigError(`decode_head.feature_strides must increase, got [${feature_strides.join(', ')}]`, 'decode_head.feature_strides');
    this.inChannels = [...in_channels];
    this.inIndex = opts.in_index ? [...opts.in_index] : in_channels.map((_, i) => i);
    if (this.inIndex.length !== in_channels.length) throw new ConfigError('decode_head.in_index must have one entry per in_channels entry', 'decode_head.in_index');
    this.featureStrides = [...feature_strides];
    this.channels = opts.channels;
    this.numClasses = opts.num_classes;
    this.dropoutRatio = opts.dropout_ratio ?? 0.1;
    this.alignCorners = opts.align_corners ?? false;
    const norm = opts.norm_cfg === undefined ? { type: 'BN' as const } : opts.norm_cfg;
    const heads = new HeadList();
    feature_strides.forEach((stride, i) => {
      const length = Math.max(1, Math.trunc(Math.log2(stride) - Math.log2(feature_strides[0])));
      this.scaleHeads.push(heads.add(new ScaleHead(in_channels[i], this.channels, length, stride !== feature_strides[0], norm, this.alignCorners)));
    });
    this.child('scale_heads', heads);
    // BaseDecodeHead init_cfg: normal(std=0.01) on conv_seg, bias 0.
    this.convSeg = this.child(
      'conv_seg',
      new Conv2d(this.channels, this.numClasses, 1, { weightInit: (s) => normal(s, 0, 0.01), biasInit: (s) => tf.zeros(s) }),
    );
  }

  /** Takes the neck outputs (all levels); returns logits at the finest level's resolution, NHWC. */
  forward(inputs: tf.Tensor4D[]): tf.Tensor4D {
    return tf.tidy(() => {
      const x = this.inIndex.map((i) => {
        const f = inputs[i];
        if (!f) throw new Error(`FPNHead: in_index ${i} is beyond the ${inputs.length} neck outputs`);
        return f;
      });
      let out = this.scaleHeads[0].forward(x[0]);
      for (let i = 1; i < this.scaleHeads.length; i++) {
        const y = this.scaleHeads[i].forward(x[i]);
        out = tf.add(out, resizeBilinear(y, [out.shape[1], out.shape[2]], this.alignCorners));
      }
      return this.convSeg.forward(this.dropout(out));
    });
  }

  /** nn.Dropout2d: zeroes whole channels per sample in training, scaling survivors by 1/(1-p). */
  private dropout(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.dropoutRatio;
    if (!this.training || p <= 0) return x;
    const [n, , , c] = x.shape;
    // Drawn from the seeded init stream so a seeded run is reproducible on every backend.
    const keep = tf.cast(tf.greaterEqual(uniform([n, 1, 1, c], 0, 1), p), 'float32');
    return tf.mul(x, tf.div(keep, 1 - p));
  }
}

/** `scale_heads`: an nn.ModuleList. */
class HeadList extends Module {
  private n = 0;
  add(h: ScaleHead): ScaleHead {
    return this.child(String(this.n++), h);
  }
}
