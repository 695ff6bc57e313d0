// mmdet's FCNMaskHead: num_convs 3x3 ConvModules (ReLU), a 2x2 stride-2 deconv + ReLU, and a 1x1 conv
// to one logit map per class (class-specific masks, 14x14 RoI features -> 28x28 masks).
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Conv2d, ConvTranspose2d, ModuleList } from '../../nn/layers';
import { kaimingNormalFanOut } from '../../nn/init';
import { ConvModule } from '../../nn/conv_module';
import type { LossWeightCfg } from '../types';

/** mmdet's `FCNMaskHead` config fields (roi_head.mask_head without `type`). */
export interface MaskHeadOptions {
  /** 3x3 ConvModules before the upsampling deconv. */
  num_convs: number;
  in_channels: number;
  conv_out_channels: number;
  /** One mask logit map per class. */
  num_classes: number;
  /** Per-pixel BCE on the GT class's channel; only `loss_weight` (default 1) is read. */
  loss_mask?: LossWeightCfg;
}

export class FCNMaskHead extends Module {
  readonly convs: ModuleList<ConvModule>;
  readonly upsample: ConvTranspose2d;
  readonly convLogits: Conv2d;

  constructor(readonly opts: MaskHeadOptions) {
    super();
    const { num_convs: numConvs, in_channels: inChannels, conv_out_channels: convOutChannels, num_classes: numClasses } = opts;
    const convs: ConvModule[] = [];
    // ConvModule's default init is mmcv's kaiming (normal, fan_out, ReLU), bias 0, as mmdet.
    for (let i = 0; i < numConvs; i++) convs.push(new ConvModule(i === 0 ? inChannels : convOutChannels, convOutChannels, { kernelSize: 3, padding: 1 }));
    this.convs = this.child('convs', new ModuleList(convs));
    const up = numConvs > 0 ? convOutChannels : inChannels;
    // FCNMaskHead.init_weights: kaiming_normal_(fan_out, relu) on upsample and conv_logits, bias 0.
    const kaiming = (s: number[], _fi: number, fo: number) => kaimingNormalFanOut(s, fo);
    this.upsample = this.child('upsample', new ConvTranspose2d(up, convOutChannels, 2, { stride: 2, weightInit: kaiming }));
    tf.tidy(() => this.upsample.bias?.assign(tf.zerosLike(this.upsample.bias)));
    this.convLogits = this.child('conv_logits', new Conv2d(convOutChannels, numClasses, 1, { weightInit: kaiming, biasInit: (s) => tf.zeros(s) }));
  }

  /** [K, 14, 14, C] -> mask logits [K, 28, 28, num_classes]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = x;
    for (const c of this.convs.items) y = c.forward(y);
    y = tf.relu(this.upsample.forward(y));
    return this.convLogits.forward(y);
  }
}
