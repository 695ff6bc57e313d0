// Mask R-CNN end to end on a tiny model and in-memory data: training reduces the losses without
// leaking tensors, inference returns well-formed results, a saved checkpoint reproduces its results,
// and the bad-input cases mmdetection handles (no annotations, zero-area boxes, more GT than
// proposals, no detections, backbone/FPN channel mismatch) behave the same here.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../ops/wasm_grad_kernels';
import { buildMaskRCNN, type MaskRCNNConfig } from '../models/mask_rcnn_builder';
import type { MaskRCNN } from '../models/mask_rcnn';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStateDict, readCheckpoint, saveCheckpoint } from '../checkpoint';
import { setInitSeed } from '../nn/init';
import { ConfigError } from '../core/errors';
import { MODELS } from '../core/registry';
import { fromObject, decodeRowMajor } from '../evaluation/mask';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './helpers/mask_rcnn_tiny';

beforeAll(async () => {
  registerWasmGradKernels();
  await tf.setBackend('wasm');
  registerTinyBackbone();
});

function trainSteps(model: MaskRCNN, steps: number, lr = 2e-3): { losses: Record<string, number>[]; tensors: number[] } {
  const opt = tf.train.adam(lr);
  const losses: Record<string, number>[] = [];
  const tensors: number[] = [];
  for (let it = 0; it < steps; it++) {
    const batch = tinyBatch(it % 3);
    const vals: Record<string, number> = {};
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const l = model.forwardTrain(batch);
        for (const [k, v] of Object.entries(l)) vals[k] = v.dataSync()[0];
        return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar;
      });
      opt.applyGradients(grads as tf.NamedTensorMap as never);
    });
    losses.push(vals);
    tensors.push(tf.memory().numTensors);
  }
  opt.dispose();
  return { losses, tensors };
}

const total = (l: Record<string, number>) => Object.entries(l).filter(([k]) => k.includes('loss')).reduce((a, [, v]) => a + v, 0);

describe('Mask R-CNN (tiny)', () => {
  it('trains: every loss is finite, the total decreases, no tensor leaks', async () => {
    setInitSeed(1);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    const { losses, tensors } = trainSteps(model, 24);
    for (const l of losses) {
      expect(Object.keys(l).sort()).toEqual(['acc', 'loss_bbox', 'loss_cls', 'loss_mask', 'loss_rpn_bbox', 'loss_rpn_cls']);
      for (const v of Object.values(l)) expect(Number.isFinite(v)).toBe(true);
    }
    const first = losses.slice(0, 3).reduce((a, l) => a + total(l), 0) / 3;
    const last = losses.slice(-3).reduce((a, l) => a + total(l), 0) / 3;
    expect(last).toBeLessThan(first * 0.8);
    // After the first step (optimizer slots created), the live tensor count is constant.
    expect(new Set(tensors.slice(2)).size).toBe(1);
    const before = tf.memory().numTensors;
    const res = (await model.predict(tinyBatch(50)));
    expect(tf.memory().numTensors).toBe(before);
    expect(res).toHaveLength(2);
    for (const r of res) {
      const n = r.scores.length;
      expect(r.bboxes.length).toBe(4 * n);
      expect(r.labels.length).toBe(n);
      expect(r.masks).toHaveLength(n);
      for (let j = 1; j < n; j++) expect(r.scores[j - 1]).toBeGreaterThanOrEqual(r.scores[j]);
      for (const m of r.masks ?? []) expect(m.size).toEqual([64, 64]);
    }
    model.dispose();
  });

  it('the asynchronous proposal path (used on webgpu) gives the same losses and BN statistics', async () => {
    const run = async (prepare: boolean) => {
      setInitSeed(5);
      const model = buildMaskRCNN(tinyMaskRcnnConfig());
      model.module.train();
      const batch = tinyBatch(3);
      if (prepare) await model.prepareTrain(batch, { force: true });
      const losses = tf.tidy(() => Object.fromEntries(Object.entries(model.forwardTrain(batch)).map(([k, v]) => [k, v.dataSync()[0]])));
      const stats = model.module.namedSlots().filter(([n]) => n.endsWith('running_mean')).map(([, s]) => Array.from(s.variable.dataSync()));
      model.dispose();
      return { losses, stats };
    };
    const onePass = await run(false);
    const twoPass = await run(true);
    expect(twoPass.losses).toEqual(onePass.losses);
    expect(twoPass.stats).toEqual(onePass.stats);
  });

  it('a checkpoint reproduces its saved results', async () => {
    setInitSeed(2);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    trainSteps(model, 6);
    const batch = tinyBatch(77);
    const dir = mkdtempSync(join(tmpdir(), 'mrcnn-'));
    const ckpt = join(dir, 'iter_6.safetensors');
    const out = join(dir, 'results.json');
    await saveCheckpoint(ckpt, model.module, null, { iter: 6, epoch: 0, inner_iter: 6 });
    writeFileSync(out, JSON.stringify((await model.predict(batch)).map(plain)));
    model.dispose();
    setInitSeed(99);
    const fresh = buildMaskRCNN(tinyMaskRcnnConfig());
    loadStateDict(fresh.module, readCheckpoint(ckpt).stateDict, { strict: true, source: ckpt });
    const again = (await fresh.predict(batch)).map(plain);
    expect(again.some((r) => r.scores.length > 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(again))).toEqual(JSON.parse(readFileSync(out, 'utf8')));
    fresh.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('handles images without annotations, zero-area boxes and more GT than proposals', () => {
    setInitSeed(3);
    const cfg = tinyMaskRcnnConfig();
    cfg.train_cfg.rpn_proposal.max_per_img = 2; // fewer proposals than GT: GT-as-proposals keeps positives
    const model = buildMaskRCNN(cfg);
    const many = Array.from({ length: 6 }, (_, k) => ({ box: [2 + 10 * k, 4, 12 + 10 * k, 30] as [number, number, number, number], label: k % 2 }));
    const batch = tinyBatch(5, 2, 64, [[], many]);
    // A zero-area box (x1 == x2) in the second image: dropped, as mmdet's dataset drops it.
    batch.gt_bboxes![1] = Float32Array.from([...batch.gt_bboxes![1], 20, 20, 20, 40]);
    batch.gt_labels![1] = Int32Array.from([...batch.gt_labels![1], 0]);
    batch.gt_masks![1] = [...batch.gt_masks![1], new Uint8Array(64 * 64)];
    const vals = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const l = model.forwardTrain(batch);
        return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar;
      });
      for (const g of Object.values(grads)) expect(Number.isFinite(g.sum().dataSync()[0])).toBe(true);
      return value.dataSync()[0];
    });
    expect(Number.isFinite(vals)).toBe(true);
    // Both images without any annotation: only negatives, finite losses, zero box/mask losses.
    const empty = tinyBatch(6, 2, 64, [[], []]);
    const l = tf.tidy(() => Object.fromEntries(Object.entries(model.forwardTrain(empty)).map(([k, v]) => [k, v.dataSync()[0]])));
    expect(Math.abs(l.loss_rpn_bbox)).toBe(0);
    expect(Math.abs(l.loss_bbox)).toBe(0);
    expect(Math.abs(l.loss_mask)).toBe(0);
    expect(l.loss_cls).toBeGreaterThan(0);
    model.dispose();
  });

  it('trains and predicts on a padded batch of images with different sizes', async () => {
    setInitSeed(6);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    const batch = tinyBatch(12, 2, 64, [[{ box: [4, 4, 30, 40], label: 0 }], [{ box: [10, 8, 40, 30], label: 1 }]]);
    // Image 2 is 48 px wide inside the 64 px padded batch; its original was 96x72 (scale 2/3).
    batch.metas[1].img_shape = [48, 48, 3];
    batch.metas[1].ori_shape = [72, 72, 3];
    batch.metas[1].scale_factor = [2 / 3, 2 / 3, 2 / 3, 2 / 3];
    const loss = tf.tidy(() => {
      const l = model.forwardTrain(batch);
      return Object.entries(l).filter(([k]) => k.includes('loss')).reduce((a, [, v]) => a + v.dataSync()[0], 0);
    });
    expect(Number.isFinite(loss)).toBe(true);
    const res = (await model.predictBitmaps(batch));
    for (const m of res[1].masks ?? []) expect(m.length).toBe(72 * 72);
    for (let j = 0; j < res[1].scores.length; j++) for (let c = 0; c < 4; c++) expect(res[1].bboxes[4 * j + c]).toBeLessThanOrEqual(72 + 1e-3);
    model.dispose();
  });

  it('returns empty results when nothing passes score_thr', async () => {
    setInitSeed(4);
    const cfg = tinyMaskRcnnConfig();
    cfg.test_cfg.rcnn.score_thr = 1; // softmax scores never exceed 1
    const model = buildMaskRCNN(cfg);
    const before = tf.memory().numTensors;
    const res = (await model.predict(tinyBatch(8)));
    expect(tf.memory().numTensors).toBe(before);
    for (const r of res) {
      expect(r.scores.length).toBe(0);
      expect(r.bboxes.length).toBe(0);
      expect(r.masks).toEqual([]);
    }
    model.dispose();
  });

  it('fails at build time when the FPN in_channels do not match the backbone, naming both lists', () => {
    const cfg = tinyMaskRcnnConfig(2, [8, 16, 16, 16], [8, 16, 32, 64]);
    expect(() => MODELS.build(cfg as unknown as MaskRCNNConfig & { type: string }, undefined, 'model')).toThrow(ConfigError);
    expect(() => buildMaskRCNN(cfg)).toThrow(/\[8, 16, 32, 64\].*\[8, 16, 16, 16\]/);
  });

  it('pastes masks at the original image size', async () => {
    setInitSeed(5);
    const model = buildMaskRCNN(tinyMaskRcnnConfig());
    trainSteps(model, 2);
    const batch = tinyBatch(9, 1, 64);
    // The image was "resized" by 0.5 from a 128x128 original.
    batch.metas[0].ori_shape = [128, 128, 3];
    batch.metas[0].scale_factor = [0.5, 0.5, 0.5, 0.5];
    const [r] = (await model.predictBitmaps(batch));
    for (const m of r.masks ?? []) expect(m.length).toBe(128 * 128);
    for (let j = 0; j < r.scores.length; j++) for (let c = 0; c < 4; c++) expect(r.bboxes[4 * j + c]).toBeLessThanOrEqual(128);
    const [enc] = (await model.predict(batch));
    if (enc.masks?.length) expect(decodeRowMajor(fromObject(enc.masks[0]))).toEqual(r.masks![0]);
    model.dispose();
  });
});

function plain(r: Awaited<ReturnType<MaskRCNN['predict']>>[number]) {
  return { bboxes: Array.from(r.bboxes), scores: Array.from(r.scores), labels: Array.from(r.labels), masks: r.masks };
}
