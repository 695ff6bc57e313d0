// mmdet's Shared2FCBBoxHead: RoI features flattened in PyTorch's (C, h, w) order (so fc weights of
// mmdet checkpoints load unchanged), two shared fc + ReLU, then a classifier over num_classes + 1
// (background last) and class-specific box deltas (4 per class).
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Linear, ModuleList } from '../../nn/layers';
import { normal, xavierUniform } from '../../nn/init';
import type { DeltaXYWHBBoxCoderConfig } from '../../task_modules/delta_xywh_coder';
import type { LossWeightCfg } from '../types';

/** mmdet's `Shared2FCBBoxHead` config fields (roi_head.bbox_head without `type`). */
export interface BBoxHeadOptions {
  /** Channels of the RoI features. */
  in_channels: number;
  /** Side of the square RoI features (the extractor's output_size). */
  roi_feat_size: number;
  fc_out_channels: number;
  /** Foreground classes (the classifier adds one background class, last). */
  num_classes: number;
  /** Shared fc layers (Shared2FC: 2). */
  num_shared_fcs?: number;
  /** Coder of the regression targets (default: means 0, stds 1). */
  bbox_coder?: DeltaXYWHBBoxCoderConfig & { type?: 'DeltaXYWHBBoxCoder' };
  /** One box for all classes instead of one per class (default false). */
  reg_class_agnostic?: boolean;
  /** Softmax cross-entropy over num_classes + 1; only `loss_weight` (default 1) is read. */
  loss_cls?: LossWeightCfg;
  /** L1 on the positives' deltas; only `loss_weight` (default 1) is read. */
  loss_bbox?: LossWeightCfg;
}

const zeros = (s: number[]) => tf.zeros(s);

export class Shared2FCBBoxHead extends Module {
  readonly sharedFcs: ModuleList<Linear>;
  readonly fcCls: Linear;
  readonly fcReg: Linear;

  constructor(readonly opts: BBoxHeadOptions) {
    super();
    const { in_channels: inChannels, roi_feat_size: roiFeatSize, fc_out_channels: fcOutChannels, num_classes: numClasses } = opts;
    const n = opts.num_shared_fcs ?? 2;
    const fcs: Linear[] = [];
    for (let i = 0; i < n; i++) {
      const fin = i === 0 ? inChannels * roiFeatSize * roiFeatSize : fcOutChannels;
      // mmdet ConvFCBBoxHead init_cfg: Xavier (uniform) for the shared fcs, bias 0.
      fcs.push(new Linear(fin, fcOutChannels, { weightInit: (s, fi, fo) => xavierUniform(s, fi, fo), biasInit: zeros }));
    }
    this.sharedFcs = this.child('shared_fcs', new ModuleList(fcs));
    // mmdet BBoxHead init_cfg: Normal std 0.01 for fc_cls, 0.001 for fc_reg, bias 0.
    this.fcCls = this.child('fc_cls', new Linear(fcOutChannels, numClasses + 1, { weightInit: (s) => normal(s, 0, 0.01), biasInit: zeros }));
    this.fcReg = this.child('fc_reg', new Linear(fcOutChannels, 4 * numClasses, { weightInit: (s) => normal(s, 0, 0.001), biasInit: zeros }));
  }

  /** [K, s, s, C] RoI features -> cls logits [K, num_classes+1], deltas [K, 4*num_classes]. */
  forward(roiFeats: tf.Tensor4D): { cls: tf.Tensor2D; reg: tf.Tensor2D } {
    const [k, h, w, c] = roiFeats.shape;
    let x: tf.Tensor = tf.reshape(tf.transpose(roiFeats, [0, 3, 1, 2]), [k, c * h * w]);
    for (const fc of this.sharedFcs.items) x = tf.relu(fc.forward(x));
    return { cls: this.fcCls.forward(x) as tf.Tensor2D, reg: this.fcReg.forward(x) as tf.Tensor2D };
  }
}
