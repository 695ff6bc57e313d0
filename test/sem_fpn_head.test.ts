import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { FPNHead } from '../heads/seg/fpn_head';
import { segAccuracy, segCrossEntropy, checkLabelValues, LabelValueError, resizedSegCrossEntropy, resizedSegAccuracy } from '../ops/seg_loss';
import { resizeBilinear } from '../ops/resize';
import { stateDict } from '../checkpoint/state_dict';

const headOpts = { in_channels: [8, 8, 8, 8], feature_strides: [4, 8, 16, 32], channels: 6, num_classes: 5 };
const feats = (n: number) => [16, 8, 4, 2].map((s) => tf.randomNormal([n, s, s + 2 * (s / 2), 8]) as tf.Tensor4D);

describe('FPNHead', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('outputs logits at the finest level and has mmseg state_dict names', () => {
    const head = new FPNHead(headOpts);
    const keys = [...stateDict(head).keys()];
    // One conv block for strides 4 and 8, two for 16, three for 32; Upsample entries take the odd indices.
    const convs = keys.filter((k) => k.endsWith('conv.weight'));
    expect(convs).toEqual([
      'scale_heads.0.0.conv.weight',
      'scale_heads.1.0.conv.weight',
      'scale_heads.2.0.conv.weight',
      'scale_heads.2.2.conv.weight',
      'scale_heads.3.0.conv.weight',
      'scale_heads.3.2.conv.weight',
      'scale_heads.3.4.conv.weight',
    ]);
    expect(keys).toContain('scale_heads.0.0.bn.running_var');
    expect(keys).not.toContain('scale_heads.0.0.conv.bias'); // conv followed by BN has no bias
    expect(keys.slice(-2)).toEqual(['conv_seg.weight', 'conv_seg.bias']);
    expect(stateDict(head).get('conv_seg.weight')!.shape).toEqual([5, 6, 1, 1]);
    const x = feats(2);
    head.eval();
    const out = head.forward(x);
    expect(out.shape).toEqual([2, 16, 32, 5]);
    tf.dispose([out, ...x]);
    head.dispose();
  });

  it('applies channel dropout only in training mode', () => {
    const head = new FPNHead({ ...headOpts, dropout_ratio: 0.5 });
    const x = feats(1);
    head.eval();
    const a = head.forward(x);
    const b = head.forward(x);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    head.train();
    const c = head.forward(x);
    const d = head.forward(x);
    expect(tf.max(tf.abs(tf.sub(c, d))).dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([a, b, c, d, ...x]);
    head.dispose();
  });

  it('resizes bilinearly with align_corners=False as PyTorch', () => {
    // torch: F.interpolate([[0, 1]], size=4, mode='bilinear', align_corners=False) -> [0, 0.25, 0.75, 1]
    const x = tf.tensor4d([0, 1], [1, 1, 2, 1]);
    expect(Array.from(resizeBilinear(x, [1, 4]).dataSync())).toEqual([0, 0.25, 0.75, 1]);
    // Downsampling 4 -> 2 samples at 0.5 and 2.5: [mean(a0, a1), mean(a2, a3)].
    const y = tf.tensor4d([0, 2, 4, 8], [1, 1, 4, 1]);
    expect(Array.from(resizeBilinear(y, [1, 2]).dataSync())).toEqual([1, 6]);
    // Non-integer ratios agree with tfjs's half-pixel forward (which matches PyTorch's formula).
    const z = tf.randomNormal([2, 5, 7, 3]) as tf.Tensor4D;
    const ours = resizeBilinear(z, [9, 4]);
    const theirs = tf.image.resizeBilinear(z, [9, 4], false, true);
    expect(tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]).toBeLessThan(1e-5);
  });

  it('back-propagates through the bilinear resize with the transposed sampling (tfjs ResizeBilinearGrad does not)', () => {
    // Gradient of sum(resize(x) * w) w.r.t. x[j] equals sum(resize(e_j) * w): check every j of a 3x4 input.
    const w = tf.tensor4d(Array.from({ length: 7 * 5 }, (_, i) => Math.cos(0.7 * i)), [1, 7, 5, 1]);
    const x = tf.tensor4d(Array.from({ length: 12 }, (_, i) => Math.sin(i)), [1, 3, 4, 1]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(resizeBilinear(t as tf.Tensor4D, [7, 5]), w)))(x);
    expect(g.shape).toEqual([1, 3, 4, 1]);
    const gv = g.dataSync();
    for (let j = 0; j < 12; j++) {
      const e = new Float32Array(12);
      e[j] = 1;
      const ref = tf.sum(tf.mul(tf.image.resizeBilinear(tf.tensor4d(e, [1, 3, 4, 1]), [7, 5], false, true), w)).dataSync()[0];
      expect(gv[j]).toBeCloseTo(ref, 5);
    }
  });
});

describe('segmentation loss', () => {
  // Pixel 0: logits [0, 0], label 0 -> ln 2. Pixel 1: logits [2, 0], label 1 -> ln(1 + e^2). Pixel 2: ignored.
  const logits = () => tf.tensor4d([0, 0, 2, 0, 5, -5], [1, 1, 3, 2]);
  const labels = () => tf.tensor3d([0, 1, 255], [1, 1, 3], 'int32');
  const ce0 = Math.log(2);
  const ce1 = Math.log(1 + Math.exp(2));

  it('averages over all pixels, ignored ones included, by default (mmseg 0.30 avg_non_ignore=False)', () => {
    const l = segCrossEntropy(logits(), labels());
    expect(l.dataSync()[0]).toBeCloseTo((ce0 + ce1) / 3, 5);
  });

  it('averages over non-ignored pixels with avg_non_ignore and scales by the loss weight', () => {
    const l = segCrossEntropy(logits(), labels(), { avg_non_ignore: true, loss_weight: 0.5 });
    expect(l.dataSync()[0]).toBeCloseTo((0.5 * (ce0 + ce1)) / 2, 5);
  });

  it('gives ignored pixels no gradient', () => {
    const x = logits();
    const g = tf.grad((t: tf.Tensor) => segCrossEntropy(t as tf.Tensor4D, labels()))(x);
    const gv = Array.from(g.dataSync());
    expect(gv.slice(4).map(Math.abs)).toEqual([0, 0]);
    // d/dx of ln-softmax at pixel 0: (softmax - onehot) / 3 = [(0.5 - 1) / 3, 0.5 / 3]
    expect(gv[0]).toBeCloseTo(-0.5 / 3, 5);
    expect(gv[1]).toBeCloseTo(0.5 / 3, 5);
  });

  it('computes acc_seg over non-ignored pixels in percent', () => {
    // argmax: pixel 0 -> 0 (first of a tie, correct), pixel 1 -> 0 (wrong); pixel 2 ignored.
    expect(segAccuracy(logits(), labels()).dataSync()[0]).toBeCloseTo(50, 4);
  });

  it('acc_seg of an all-ignored batch is 100, as mmseg accuracy() with eps on both sides gives', () => {
    const lab = tf.tensor3d([255, 255, 255, 255], [1, 2, 2], 'int32');
    const lg = tf.randomNormal([1, 2, 2, 3]) as tf.Tensor4D;
    expect(segAccuracy(lg, lab).dataSync()[0]).toBeCloseTo(100, 4);
    expect(resizedSegAccuracy(tf.randomNormal([1, 1, 1, 3]) as tf.Tensor4D, lab).dataSync()[0]).toBeCloseTo(100, 4);
    tf.dispose([lab, lg]);
  });

  it('the image-by-image fused resize + loss equals resize then loss, in value and gradient', () => {
    const low = tf.randomNormal([2, 3, 4, 5]) as tf.Tensor4D;
    const lab = tf.tensor3d(Int32Array.from({ length: 2 * 12 * 16 }, (_, i) => (i % 7 === 0 ? 255 : (i * 31) % 5)), [2, 12, 16], 'int32');
    for (const avgNonIgnore of [false, true]) {
      const ref = (x: tf.Tensor) => segCrossEntropy(resizeBilinear(x as tf.Tensor4D, [12, 16]), lab, { avg_non_ignore: avgNonIgnore, loss_weight: 0.7 });
      const fused = (x: tf.Tensor) => resizedSegCrossEntropy(x as tf.Tensor4D, lab, { avg_non_ignore: avgNonIgnore, loss_weight: 0.7 });
      expect(fused(low).dataSync()[0]).toBeCloseTo(ref(low).dataSync()[0], 5);
      const g1 = tf.grad(ref)(low);
      const g2 = tf.grad(fused)(low);
      expect(tf.max(tf.abs(tf.sub(g1, g2))).dataSync()[0]).toBeLessThan(1e-6);
    }
    expect(resizedSegAccuracy(low, lab).dataSync()[0]).toBeCloseTo(segAccuracy(resizeBilinear(low, [12, 16]), lab).dataSync()[0], 4);
  });

  it('rejects label values outside [0, num_classes) other than 255, naming the source', () => {
    expect(() => checkLabelValues(Uint8Array.from([0, 3, 255]), 4, 255, 'a.png')).not.toThrow();
    expect(() => checkLabelValues(Uint8Array.from([0, 4, 7, 255]), 4, 255, 'label map of a.png')).toThrow(LabelValueError);
    expect(() => checkLabelValues(Uint8Array.from([0, 4, 7, 255]), 4, 255, 'label map of a.png')).toThrow(
      'label map of a.png: label value 4, 7 is outside [0, 4) and is not the ignore index 255',
    );
  });
});
