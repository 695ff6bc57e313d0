// mmcv's ConvModule: conv -> optional norm -> optional activation, with mmcv's child names
// (`conv`, and `bn` for BatchNorm/SyncBN) so state_dict keys match mmdet/mmseg checkpoints.
// Shared by the FPN neck, the FPN segmentation head and the mask head.
import * as tf from '@tensorflow/tfjs';
import { Module } from './module';
import { BatchNorm2d, Conv2d, type WeightInit } from './layers';
import { SyncBatchNorm2d } from './sync_bn';
import { kaimingNormalFanOut } from './init';

/**
 * 'BN' maps to BatchNorm2d, 'SyncBN' to SyncBatchNorm2d (nn/sync_bn.ts): batch statistics over every
 * rank of a data-parallel job, and exactly BatchNorm2d in one process.
 */
export interface NormCfg {
  type: 'BN' | 'SyncBN';
  requires_grad?: boolean;
  eps?: number;
  momentum?: number;
}

export interface ConvModuleOptions {
  kernelSize: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  norm?: NormCfg | null;
  /** 'ReLU' (mmcv's default act_cfg) or null for none. */
  act?: 'ReLU' | null;
  /** Weight init; default is mmcv ConvModule.init_weights: kaiming normal, fan_out, ReLU gain, bias 0. */
  weightInit?: WeightInit;
}

export class ConvModule extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d | null;
  readonly act: 'ReLU' | null;

  constructor(inChannels: number, outChannels: number, opts: ConvModuleOptions) {
    super();
    const norm = opts.norm ?? null;
    this.act = opts.act === undefined ? 'ReLU' : opts.act;
    // mmcv bias='auto': a conv followed by a norm layer has no bias.
    this.conv = this.child(
      'conv',
      new Conv2d(inChannels, outChannels, opts.kernelSize, {
        stride: opts.stride ?? 1,
        padding: opts.padding ?? 0,
        dilation: opts.dilation ?? 1,
        bias: norm === null,
        weightInit: opts.weightInit ?? ((s, _fi, fo) => kaimingNormalFanOut(s, fo)),
        biasInit: (s) => tf.zeros(s),
      }),
    );
    const Norm = norm?.type === 'SyncBN' ? SyncBatchNorm2d : BatchNorm2d;
    this.bn = norm ? this.child('bn', new Norm(outChannels, norm.eps ?? 1e-5, norm.momentum ?? 0.1)) : null;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = this.conv.forward(x);
    if (this.bn) y = this.bn.forward(y);
    if (this.act === 'ReLU') y = tf.relu(y);
    return y;
  }
}
