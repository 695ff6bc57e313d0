// Feature Pyramid Network as mmdet 2.x / mmseg 0.30 `FPN` (add_extra_convs=False variant):
// 1x1 lateral convs, top-down pathway by nearest upsampling to the finer level's size, 3x3 output
// convs, and extra coarser levels by max_pool2d(kernel 1, stride 2) of the last output.
// Used by Mask R-CNN (num_outs 5) and Semantic FPN (num_outs 4).
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { ModuleList } from '../nn/layers';
import { xavierUniform } from '../nn/init';
import { ConfigError } from '../core/errors';
import { ConvModule } from '../nn/conv_module';
import { interpolate } from '../ops/resize';

export interface FPNOptions {
  in_channels: number[];
  out_channels: number;
  num_outs: number;
  /** First backbone level used (mmdet default 0). */
  start_level?: number;
  /** Last backbone level used, exclusive; -1 means all (mmdet default). */
  end_level?: number;
  /** Only the max-pool extra levels are implemented (both recipes use add_extra_convs=False). */
  add_extra_convs?: false;
}

/**
 * Throws a ConfigError when the neck's `in_channels` differ from what the backbone produces.
 * Models call this at build time so a wrong config fails before any forward pass.
 */
export function checkFpnInChannels(backboneChannels: readonly number[], neckInChannels: readonly number[], where = 'neck.in_channels'): void {
  const same = backboneChannels.length === neckInChannels.length && backboneChannels.every((c, i) => c === neckInChannels[i]);
  if (!same) {
    throw new ConfigError(
      `${where} is [${neckInChannels.join(', ')}] but the backbone outputs channels [${backboneChannels.join(', ')}]`,
      where,
    );
  }
}

/** mmcv xavier_init(distribution='uniform') with bias 0, which FPN's init_cfg applies to every conv. */
const xavier = (s: number[], fanIn: number, fanOut: number) => xavierUniform(s, fanIn, fanOut);

export class FPN extends Module {
  readonly inChannels: number[];
  readonly outChannels: number;
  readonly numOuts: number;
  readonly startLevel: number;
  readonly backboneEndLevel: number;
  readonly lateralConvs: ModuleList<ConvModule>;
  readonly fpnConvs: ModuleList<ConvModule>;

  constructor(opts: FPNOptions) {
    super();
    const { in_channels, out_channels, num_outs } = opts;
    if (!Array.isArray(in_channels) || in_channels.length === 0) throw new ConfigError('FPN in_channels must be a non-empty list', 'neck.in_channels');
    if (opts.add_extra_convs) throw new ConfigError('FPN add_extra_convs is not supported (only max-pool extra levels)', 'neck.add_extra_convs');
    this.inChannels = [...in_channels];
    this.outChannels = out_channels;
    this.numOuts = num_outs;
    this.startLevel = opts.start_level ?? 0;
    const endLevel = opts.end_level ?? -1;
    if (endLevel === -1 || endLevel === in_channels.length - 1) {
      // mmdet: end_level -1 means "all levels"; then num_outs may exceed the used levels (extra outputs).
      this.backboneEndLevel = in_channels.length;
      if (num_outs < in_channels.length - this.startLevel) {
        throw new ConfigError(`FPN num_outs ${num_outs} is smaller than the ${in_channels.length - this.startLevel} input levels used`, 'neck.num_outs');
      }
    } else {
      this.backboneEndLevel = endLevel + 1;
      if (endLevel >= in_channels.length) throw new ConfigError(`FPN end_level ${endLevel} is beyond the ${in_channels.length} inputs`, 'neck.end_level');
      if (num_outs !== endLevel - this.startLevel + 1) throw new ConfigError('FPN num_outs must equal end_level - start_level + 1', 'neck.num_outs');
    }
    const lat: ConvModule[] = [];
    const out: ConvModule[] = [];
    for (let i = this.startLevel; i < this.backboneEndLevel; i++) {
      lat.push(new ConvModule(in_channels[i], out_channels, { kernelSize: 1, norm: null, act: null, weightInit: xavier }));
      out.push(new ConvModule(out_channels, out_channels, { kernelSize: 3, padding: 1, norm: null, act: null, weightInit: xavier }));
    }
    this.lateralConvs = this.child('lateral_convs', new ModuleList(lat));
    this.fpnConvs = this.child('fpn_convs', new ModuleList(out));
  }

  /** `feats` are the backbone levels (NHWC), finest first; returns `num_outs` levels, finest first. */
  forward(feats: tf.Tensor4D[]): tf.Tensor4D[] {
    if (feats.length !== this.inChannels.length) {
      throw new Error(`FPN expects ${this.inChannels.length} input levels, got ${feats.length}`);
    }
    feats.forEach((f, i) => {
      if (f.shape[3] !== this.inChannels[i]) {
        throw new Error(`FPN input level ${i} has ${f.shape[3]} channels, expected ${this.inChannels[i]} (in_channels [${this.inChannels.join(', ')}])`);
      }
    });
    return tf.tidy(() => {
      const laterals = this.lateralConvs.items.map((conv, i) => conv.forward(feats[i + this.startLevel]));
      for (let i = laterals.length - 1; i > 0; i--) {
        const [, h, w] = laterals[i - 1].shape;
        // mmdet's default upsample_cfg has no scale_factor: F.interpolate(size=prev_shape, mode='nearest'),
        // i.e. src = floor(dst * float32(in / out)); ops/resize reproduces PyTorch's indices exactly.
        laterals[i - 1] = tf.add(laterals[i - 1], interpolate(laterals[i], { size: [h, w] }, 'nearest'));
      }
      const outs = laterals.map((l, i) => this.fpnConvs.items[i].forward(l));
      while (outs.length < this.numOuts) outs.push(maxPool1x1Stride2(outs[outs.length - 1]));
      return outs;
    });
  }
}

/**
 * F.max_pool2d(x, 1, stride=2): every other pixel, ceil(H/2) x ceil(W/2). Written as a max-pool, not
 * a strided slice, because tfjs 4.22 has no gradient for StridedSlice.
 */
export function maxPool1x1Stride2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 1, 2, 'valid');
}
