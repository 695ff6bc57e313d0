// mmdet's Shared2FCBBoxHead: RoI features flattened in PyTorch's (C, h, w) order (so fc weights of
// mmdet checkpoints load unchanged), two shared fc + ReLU, then a classifier over num_classes + 1
// (background last) and class-specific box deltas (4 per class).
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Linear, ModuleList } from '../../nn/layers';
import { normal, xavierUniform } from '../../nn/init';

export interface BBoxHeadOptions {
  inChannels: number;
  roiFeatSize: number;
  fcOutChannels: number;
  numClasses: number;
  /** Shared fc layers (Shared2FC: 2). */
  numSharedFcs?: number;
}

const zeros = (s: number[]) => tf.zeros(s);

export class Shared2FCBBoxHead extends Module {
  readonly sharedFcs: ModuleList<Linear>;
  readonly fcCls: Linear;
  readonly fcReg: Linear;

  constructor(readonly opts: BBoxHeadOptions) {
    super();
    const { inChannels, roiFeatSize, fcOutChannels, numClasses } = opts;
    const n = opts.numSharedFcs ?? 2;
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
