// mmdet's FCNMaskHead: num_convs 3x3 ConvModules (ReLU), a 2x2 stride-2 deconv + ReLU, and a 1x1 conv
// to one logit map per class (class-specific masks, 14x14 RoI features -> 28x28 masks).
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Conv2d, ConvTranspose2d, ModuleList } from '../../nn/layers';
import { kaimingNormalFanOut } from '../../nn/init';
import { ConvModule } from '../../nn/conv_module';

export interface MaskHeadOptions {
  numConvs: number;
  inChannels: number;
  convOutChannels: number;
  numClasses: number;
}

export class FCNMaskHead extends Module {
  readonly convs: ModuleList<ConvModule>;
  readonly upsample: ConvTranspose2d;
  readonly convLogits: Conv2d;

  constructor(readonly opts: MaskHeadOptions) {
    super();
    const { numConvs, inChannels, convOutChannels, numClasses } = opts;
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
