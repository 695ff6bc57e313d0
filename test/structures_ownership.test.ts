// The structures that carry tensors between the detector's modules own them: Boxes, InstanceData and
// DetSample free their tensors on dispose(); the detector's test and training paths, which pass
// proposals and ground truth as these containers, leave no tensor behind. Also: the heads take their
// config entries (snake_case, with `type`) unchanged.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { Boxes } from '../structures/boxes';
import { InstanceData } from '../structures/instance_data';
import { DetSample, disposeSamples } from '../structures/det_sample';
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
