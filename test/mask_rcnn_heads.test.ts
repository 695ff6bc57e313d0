// Loss functions against hand-computed values, and the heads' output shapes, parameter names and
// mmdet initialisation statistics.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { accuracy, bceWithLogits, l1Loss, sigmoidCrossEntropy, softmaxCrossEntropy } from '../heads/losses';
import { RPNHead } from '../heads/rpn/rpn_head';
import { Shared2FCBBoxHead } from '../heads/roi/shared2fc_bbox_head';
import { FCNMaskHead } from '../heads/roi/fcn_mask_head';
import { setInitSeed } from '../nn/init';

const std = (v: tf.Variable) => Math.sqrt(tf.tidy(() => tf.moments(v).variance.dataSync()[0]));

describe('Mask R-CNN losses', () => {
  it('match hand-computed values', () => {
    expect(bceWithLogits(tf.tensor1d([0]), tf.tensor1d([1])).dataSync()[0]).toBeCloseTo(Math.LN2, 6);
    // Large logits stay finite: BCE(100, 0) = 100, BCE(-100, 0) ~ 0.
    expect(Array.from(bceWithLogits(tf.tensor1d([100, -100]), tf.tensor1d([0, 0])).dataSync())).toEqual([100, expect.closeTo(0, 6)]);
    const w = tf.tensor1d([1, 0]);
    expect(sigmoidCrossEntropy(tf.tensor1d([0, 5]), tf.tensor1d([1, 1]), w, 2).dataSync()[0]).toBeCloseTo(Math.LN2 / 2, 6);
    const logits = tf.tensor2d([0, Math.log(3), 0, 0], [2, 2]);
    const ce = softmaxCrossEntropy(logits, Int32Array.from([1, 0]), Float32Array.from([1, 1]), 2).dataSync()[0];
    expect(ce).toBeCloseTo((-Math.log(3 / 4) + Math.LN2) / 2, 6);
    expect(accuracy(logits, Int32Array.from([1, 1])).dataSync()[0]).toBe(50);
    expect(l1Loss(tf.tensor1d([1, -1]), tf.tensor1d([0, 0]), 4).dataSync()[0]).toBeCloseTo(0.5, 6);
  });
});

describe('Mask R-CNN heads', () => {
  it('RPN: per-level objectness [N,H,W,A] and deltas [N,H,W,4A]; mmdet names; normal(0.01) init, zero bias', () => {
    setInitSeed(0);
    const rpn = new RPNHead({ in_channels: 32, feat_channels: 32, anchor_generator: { scales: [8], ratios: [0.5, 1, 2], strides: [4, 8] }, bbox_coder: { target_means: [0, 0, 0, 0], target_stds: [1, 1, 1, 1] } });
    const out = rpn.forward([tf.zeros([2, 8, 8, 32]) as tf.Tensor4D, tf.zeros([2, 4, 4, 32]) as tf.Tensor4D]);
    expect(out.cls.map((t) => t.shape)).toEqual([[2, 8, 8, 3], [2, 4, 4, 3]]);
    expect(out.reg.map((t) => t.shape)).toEqual([[2, 8, 8, 12], [2, 4, 4, 12]]);
    expect(rpn.namedParameters().map(([n]) => n)).toEqual(['rpn_conv.weight', 'rpn_conv.bias', 'rpn_cls.weight', 'rpn_cls.bias', 'rpn_reg.weight', 'rpn_reg.bias']);
    expect(std(rpn.rpnConv.weight)).toBeCloseTo(0.01, 3);
    expect(rpn.rpnCls.bias!.dataSync().every((v) => v === 0)).toBe(true);
    // Anchors: (h, w, anchor) order with mmdet's base anchors (stride 4, scale 8, ratio 0.5 first).
    const [a0] = rpn.gridAnchors([[8, 8], [4, 4]]);
    expect(a0.length).toBe(8 * 8 * 3 * 4);
    expect(Array.from(a0.subarray(0, 4))).toEqual([-22.627416610717773, -11.313708305358887, 22.627416610717773, 11.313708305358887]);
  });

  it('Shared2FC: cls C+1, class-specific reg 4C, Xavier fcs, normal 0.01 / 0.001 heads; FCN mask head 28x28 per class', () => {
    setInitSeed(0);
    const bbox = new Shared2FCBBoxHead({ in_channels: 16, roi_feat_size: 7, fc_out_channels: 64, num_classes: 5 });
    const { cls, reg } = bbox.forward(tf.ones([3, 7, 7, 16]) as tf.Tensor4D);
    expect(cls.shape).toEqual([3, 6]);
    expect(reg.shape).toEqual([3, 20]);
    expect(bbox.namedParameters().map(([n]) => n)).toEqual(['shared_fcs.0.weight', 'shared_fcs.0.bias', 'shared_fcs.1.weight', 'shared_fcs.1.bias', 'fc_cls.weight', 'fc_cls.bias', 'fc_reg.weight', 'fc_reg.bias']);
    expect(std(bbox.fcCls.weight)).toBeCloseTo(0.01, 3);
    expect(std(bbox.fcReg.weight)).toBeCloseTo(0.001, 4);
    expect(std(bbox.sharedFcs.items[1].weight)).toBeCloseTo(Math.sqrt(2 / (64 + 64)), 2);
    const mask = new FCNMaskHead({ num_convs: 2, in_channels: 16, conv_out_channels: 16, num_classes: 5 });
    expect(mask.forward(tf.ones([3, 14, 14, 16]) as tf.Tensor4D).shape).toEqual([3, 28, 28, 5]);
    expect(mask.namedParameters().map(([n]) => n)).toEqual(['convs.0.conv.weight', 'convs.0.conv.bias', 'convs.1.conv.weight', 'convs.1.conv.bias', 'upsample.weight', 'upsample.bias', 'conv_logits.weight', 'conv_logits.bias']);
    // Kaiming normal, fan_out = out * k * k, ReLU gain.
    expect(std(mask.convs.items[0].conv.weight)).toBeCloseTo(Math.sqrt(2 / (16 * 9)), 2);
    expect(mask.upsample.bias!.dataSync().every((v) => v === 0)).toBe(true);
  });
});
