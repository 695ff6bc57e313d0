// The structures that carry tensors between the models' steps own them: Boxes, InstanceData and
// DetSample (detector), SegSample (segmentor) free their tensors on dispose(); the detector's test and
// training paths, which pass proposals and ground truth as these containers, and the segmentor's test
// paths (predict whole/slide, --aug-test), which pass scores as SegSamples, leave no tensor behind.
// Also: the heads take their config entries (snake_case, with `type`) unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Boxes } from '../structures/boxes';
import { InstanceData } from '../structures/instance_data';
import { DetSample, disposeSamples } from '../structures/det_sample';
import { SegSample, disposeSegSamples } from '../structures/seg_sample';
import { EncoderDecoder, type SegTestCfg } from '../models/encoder_decoder';
import { TinyViM } from '../backbones';
import { FPN } from '../necks/fpn';
import { FPNHead } from '../heads/seg/fpn_head';
import type { ImgMeta, SegBatch } from '../datasets/types';
import { buildMaskRCNN } from '../models/mask_rcnn_builder';
import { detSamples } from '../models/mask_rcnn';
import { RPNHead } from '../heads/rpn/rpn_head';
import { StandardRoIHead } from '../heads/roi/standard_roi_head';
import { setInitSeed } from '../nn/init';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './helpers/mask_rcnn_tiny';

const info = { imgShape: [32, 32] as [number, number], padShape: [32, 32] as [number, number], oriShape: [32, 32] as [number, number], scaleFactor: [1, 1, 1, 1] as [number, number, number, number] };

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerTinyBackbone();
});

describe('Boxes / InstanceData / DetSample own their tensors', () => {
  it('Boxes: [N,4] float32 tensor, host copy kept, gather and concat on the device, dispose frees the tensor', async () => {
    const before = tf.memory().numTensors;
    const flat = Float32Array.from([0, 0, 10, 10, 5, 5, 20, 30, 1, 2, 3, 4]);
    const b = Boxes.fromArray(flat);
    expect(b.length).toBe(3);
    expect(b.tensor.shape).toEqual([3, 4]);
    expect(b.arraySync()).toBe(flat); // the host copy, no read-back
    expect(await b.array()).toBe(flat);
    const g = b.gather(Int32Array.from([2, 0]));
    expect(Array.from(await g.array())).toEqual([1, 2, 3, 4, 0, 0, 10, 10]);
    const c = Boxes.concat([g, b]);
    expect(c.length).toBe(5);
    expect(Array.from(c.arraySync().subarray(8, 12))).toEqual([0, 0, 10, 10]);
    expect(tf.memory().numTensors).toBe(before + 3);
    for (const x of [b, g, c]) x.dispose();
    b.dispose(); // idempotent
    expect(b.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => new Boxes(wrong)).toThrow(RangeError);
    wrong.dispose();
    expect(() => Boxes.fromArray(new Float32Array(6))).toThrow(/multiple of 4/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('InstanceData: dispose frees its boxes; mismatched field lengths throw without leaking', () => {
    const before = tf.memory().numTensors;
    const inst = InstanceData.fromArrays(Float32Array.from([0, 0, 4, 4, 1, 1, 3, 3]), { scores: Float32Array.from([0.9, 0.5]), labels: Int32Array.from([1, 0]) });
    expect(inst.length).toBe(2);
    expect(tf.memory().numTensors).toBe(before + 1);
    inst.dispose();
    expect(inst.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => InstanceData.fromArrays(Float32Array.from([0, 0, 4, 4]), { labels: Int32Array.from([1, 2]) })).toThrow(/labels has 2 entries for 1 bboxes/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('DetSample: dispose frees ground truth, ignored boxes and proposals', () => {
    const before = tf.memory().numTensors;
    const s = new DetSample(info, {
      gt_instances: InstanceData.fromArrays(Float32Array.from([0, 0, 8, 8]), { labels: Int32Array.from([0]) }),
      ignored_instances: InstanceData.fromArrays(Float32Array.from([1, 1, 2, 2])),
    });
    s.proposals = InstanceData.fromArrays(Float32Array.from([0, 0, 9, 9, 2, 2, 7, 7]), { scores: Float32Array.from([0.8, 0.7]) });
    expect(tf.memory().numTensors).toBe(before + 3);
    disposeSamples([s]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('detSamples: one sample per image, zero-area GT boxes dropped with their labels and masks, all freed by disposeSamples', () => {
    const batch = tinyBatch(5, 2, 64, [
      [{ box: [4, 4, 20, 20], label: 0 }, { box: [30, 30, 30, 40], label: 1 }],
      [{ box: [10, 10, 40, 30], label: 1 }],
    ]);
    const before = tf.memory().numTensors;
    const samples = detSamples(batch);
    expect(samples.map((s) => s.gt_instances?.length)).toEqual([1, 1]);
    expect(Array.from(samples[0].gt_instances!.labels!)).toEqual([0]);
    expect(samples[0].gt_instances!.masks!.masks.length).toBe(1);
    expect([samples[0].gt_instances!.masks!.height, samples[0].gt_instances!.masks!.width]).toEqual([64, 64]);
    expect(Array.from(samples[1].gt_instances!.bboxes.arraySync())).toEqual([10, 10, 40, 30]);
    disposeSamples(samples);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the detector's stages leave no tensor behind", () => {
  it('test path: predictBitmaps and predict free features, RPN outputs and proposals; proposals() hands its containers to the caller', async () => {
    setInitSeed(0);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    const batch = tinyBatch(11, 3, 64);
    const before = tf.memory().numTensors;
    const bitmaps = await model.predictBitmaps(batch);
    expect(bitmaps.length).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
    await model.predict(batch);
    expect(tf.memory().numTensors).toBe(before);
    const proposals = await model.proposals(batch);
    expect(proposals.length).toBe(3);
    expect(proposals.every((p) => p.length > 0 && p.scores?.length === p.length)).toBe(true);
    expect(tf.memory().numTensors).toBe(before + 3);
    proposals.forEach((p) => p.dispose());
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('training: samples and proposals (also those prepared ahead by prepareTrain) are freed by forwardTrain, even when it throws', async () => {
    setInitSeed(0);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    const batch = tinyBatch(3, 2, 64);
    const before = tf.memory().numTensors;
    const step = () =>
      tf.tidy(() => {
        const { value } = tf.variableGrads(() => tf.addN(Object.entries(model.forwardTrain(batch)).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar);
        return value.dataSync()[0];
      });
    expect(Number.isFinite(step())).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // webgpu's path: proposals computed ahead, owned by the model until the step takes them.
    await model.prepareTrain(batch, { force: true });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    expect(Number.isFinite(step())).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // A step that fails still frees the prepared proposals; dispose() frees any left over.
    await model.prepareTrain(batch, { force: true });
    expect(() => model.forwardTrain({ ...batch, gt_bboxes: undefined })).toThrow(/no gt_bboxes/);
    expect(tf.memory().numTensors).toBe(before);
    await model.prepareTrain(batch, { force: true });
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});

describe('heads take their config entries unchanged (snake_case, with type)', () => {
  it("RPNHead and StandardRoIHead built from the tiny config's entries match the builder's heads", () => {
    const cfg = tinyMaskRcnnConfig();
    setInitSeed(4);
    const built = buildMaskRCNN(cfg);
    const rpn = new RPNHead(cfg.rpn_head);
    const roi = new StandardRoIHead(cfg.roi_head);
    expect(rpn.namedParameters().map(([n]) => n)).toEqual(built.rpnHead.namedParameters().map(([n]) => n));
    expect(roi.namedParameters().map(([n]) => n)).toEqual(built.roiHead.namedParameters().map(([n]) => n));
    expect(roi.withMask).toBe(true);
    expect(roi.regClassAgnostic).toBe(false);
    expect(roi.bboxRoiExtractor.outSize).toBe(7);
    expect(roi.maskRoiExtractor?.outSize).toBe(14);
    expect(rpn.numAnchors).toBe(3);
    expect(rpn.coder.stds).toEqual([1, 1, 1, 1]);
    expect(roi.coder.stds).toEqual([0.1, 0.1, 0.2, 0.2]);
    built.dispose();
    rpn.dispose();
    roi.dispose();
  });
});

/** A 3-class Semantic FPN on a one-block-per-stage TinyViM (eval mode). */
function tinySegmentor(testCfg?: SegTestCfg): EncoderDecoder {
  setInitSeed(2);
  const m = new EncoderDecoder({
    backbone: new TinyViM({ layers: [1, 1, 1, 1], embed_dims: [8, 8, 16, 16], fork_feat: true }),
    neck: new FPN({ in_channels: [8, 8, 16, 16], out_channels: 8, num_outs: 4 }),
    decode_head: new FPNHead({ in_channels: [8, 8, 8, 8], feature_strides: [4, 8, 16, 32], channels: 8, num_classes: 3 }),
    test_cfg: testCfg,
  });
  m.module.eval();
  return m;
}

function segMeta(filename: string, [h, w]: [number, number], ori: [number, number]): ImgMeta {
  return { filename, ori_filename: filename, ori_shape: [ori[0], ori[1], 3], img_shape: [h, w, 3], pad_shape: [h, w, 3], scale_factor: [w / ori[1], h / ori[0], w / ori[1], h / ori[0]], flip: false, flip_direction: null };
}

/** Three 32x32 images: two of a 24x28 original, one of a 32x32 original (two predict groups). */
function segBatch(): SegBatch {
  const data = new Float32Array(3 * 32 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37) * 1.2;
  return { kind: 'seg', data, shape: [3, 32, 32, 3], metas: [segMeta('a.jpg', [32, 32], [24, 28]), segMeta('b.jpg', [32, 32], [32, 32]), segMeta('c.jpg', [32, 32], [24, 28])] };
}

describe('SegSample owns its scores', () => {
  it('SegSample: fromBatch gives one [H_ori, W_ori, C] sample per image, labelMap / setPredSemSeg / toResult, dispose frees the scores', async () => {
    const before = tf.memory().numTensors;
    const scores = tf.tensor4d(Float32Array.from({ length: 2 * 2 * 3 * 4 }, (_, i) => (i * 7) % 11), [2, 2, 3, 4]);
    const metas = [{ filename: 'x.png', ori_shape: [2, 3, 3], img_shape: [4, 6, 3] }, { filename: 'y.png', ori_shape: [2, 3, 3], img_shape: [4, 6, 3] }];
    const samples = SegSample.fromBatch(scores, metas);
    expect(samples.map((s) => s.seg_logits.shape)).toEqual([[2, 3, 4], [2, 3, 4]]);
    expect(Array.from(samples[1].seg_logits.dataSync())).toEqual(Array.from(scores.dataSync().subarray(24)));
    scores.dispose(); // borrowed by fromBatch: the samples keep their own data
    expect(tf.memory().numTensors).toBe(before + 2);
    const map = samples[1].labelMap();
    const expected = Array.from({ length: 6 }, (_, p) => {
      const v = Array.from({ length: 4 }, (_, c) => ((24 + p * 4 + c) * 7) % 11);
      return v.indexOf(Math.max(...v));
    });
    const labels = (await map.data()) as Int32Array;
    expect(Array.from(labels)).toEqual(expected);
    map.dispose();
    samples[1].setPredSemSeg(labels);
    samples.forEach((s) => s.dispose());
    samples[0].dispose(); // idempotent
    expect(samples.every((s) => s.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    // The label map is host data: it outlives dispose().
    const r = samples[1].toResult();
    expect([r.filename, r.height, r.width]).toEqual(['y.png', 2, 3]);
    expect(r.sem_seg).toBeInstanceOf(Uint8Array);
    expect(Array.from(r.sem_seg)).toEqual(expected);
    expect(() => samples[0].toResult()).toThrow(/pred_sem_seg is not set/);
    // One image: the batch's data reshaped (shared), freed when both are disposed.
    const one = tf.zeros([1, 2, 3, 4]) as tf.Tensor4D;
    const [single] = SegSample.fromBatch(one, metas[0]);
    one.dispose();
    expect(single.numClasses).toBe(4);
    single.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('SegSample: a bad shape throws without leaking (the constructor leaves the tensor to the caller, fromBatch creates none)', () => {
    const before = tf.memory().numTensors;
    const info = { filename: 'z.png', ori_shape: [4, 5, 3], img_shape: [4, 5, 3] };
    const wrongSize = tf.zeros([4, 6, 2]) as tf.Tensor3D;
    expect(() => new SegSample(info, wrongSize)).toThrow(/z.png\): seg_logits must be \[4, 5, C\] float32/);
    const wrongRank = tf.zeros([1, 4, 5, 2]) as unknown as tf.Tensor3D;
    expect(() => new SegSample(info, wrongRank)).toThrow(RangeError);
    const wrongType = tf.zeros([4, 5, 2], 'int32') as tf.Tensor3D;
    expect(() => new SegSample(info, wrongType)).toThrow(/float32/);
    tf.dispose([wrongSize, wrongRank, wrongType]);
    const batch = tf.zeros([2, 4, 5, 2]) as tf.Tensor4D;
    expect(() => SegSample.fromBatch(batch, [info])).toThrow(/1 metas for 2 images/);
    expect(() => SegSample.fromBatch(batch, [info, { ...info, filename: 'w.png', ori_shape: [5, 5, 3] }])).toThrow(/ori_shape of w.png is 5x5/);
    batch.dispose();
    const ok = new SegSample(info, tf.zeros([4, 5, 2]) as tf.Tensor3D);
    expect(() => ok.setPredSemSeg(new Int32Array(7))).toThrow(/7 labels for a 4x5 image/);
    ok.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the segmentor's test paths leave no tensor behind", () => {
  it('inferenceScores hands one SegSample per image to the caller; predict (whole and slide) equals their argmax and frees them', async () => {
    const batch = segBatch();
    for (const cfg of [{ mode: 'whole' }, { mode: 'slide', crop_size: [16, 16], stride: [8, 8] }] as SegTestCfg[]) {
      const model = tinySegmentor(cfg);
      const before = tf.memory().numTensors;
      const results = await model.predict(batch);
      expect(tf.memory().numTensors).toBe(before);
      expect(results.map((r) => [r.filename, r.height, r.width])).toEqual([['a.jpg', 24, 28], ['b.jpg', 32, 32], ['c.jpg', 24, 28]]);
      // The same maps from the SegSamples of images a and c run as one group.
      const x = tf.tensor4d(batch.data, batch.shape);
      const ac = tf.gather(x, [0, 2]) as tf.Tensor4D;
      const samples = model.inferenceScores(ac, [batch.metas[0], batch.metas[2]]);
      tf.dispose([x, ac]);
      expect(samples.map((s) => s.metainfo.filename)).toEqual(['a.jpg', 'c.jpg']);
      expect(samples.map((s) => s.seg_logits.shape)).toEqual([[24, 28, 3], [24, 28, 3]]);
      expect(tf.memory().numTensors).toBe(before + 2);
      for (const [k, i] of [[0, 0], [1, 2]]) {
        const map = samples[k].labelMap();
        expect(Array.from(map.dataSync())).toEqual(Array.from(results[i].sem_seg));
        map.dispose();
      }
      disposeSegSamples(samples);
      expect(tf.memory().numTensors).toBe(before);
      // Geometry that differs inside one call is refused before anything runs.
      const two = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
      expect(() => model.inferenceScores(two, [batch.metas[0], batch.metas[1]])).toThrow(/b.jpg has another ori_shape\/img_shape than a.jpg/);
      two.dispose();
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
  });

  it('--aug-test (img_ratios + flip): the views are combined into one SegSample per image; predict frees everything', async () => {
    const model = tinySegmentor({ mode: 'whole', flip: true, img_ratios: [0.5, 1.0, 1.5] });
    const batch = segBatch();
    const before = tf.memory().numTensors;
    const results = await model.predict(batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => r.sem_seg.length)).toEqual([24 * 28, 32 * 32, 24 * 28]);
    const x = tf.tensor4d(batch.data.subarray(0, 32 * 32 * 3), [1, 32, 32, 3]);
    const samples = model.inferenceScores(x, batch.metas[0]);
    x.dispose();
    expect(samples.length).toBe(1);
    expect(tf.memory().numTensors).toBe(before + 1);
    const sums = tf.tidy(() => tf.sum(samples[0].seg_logits, -1).dataSync());
    expect(Math.max(...Array.from(sums, (v) => Math.abs(v - 1)))).toBeLessThan(1e-5);
    const map = samples[0].labelMap();
    expect(Array.from(map.dataSync())).toEqual(Array.from(results[0].sem_seg));
    map.dispose();
    disposeSegSamples(samples);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
