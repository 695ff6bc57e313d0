import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../ops/wasm_grad_kernels';
import { TinyViM } from '../backbones';
import { FPN } from '../necks/fpn';
import { FPNHead } from '../heads/seg/fpn_head';
import { EncoderDecoder, type SegTestCfg } from '../models/encoder_decoder';
import { LabelValueError } from '../ops/seg_loss';
import { setInitSeed } from '../nn/init';
import type { ImgMeta, SegBatch } from '../datasets/types';

const NUM_CLASSES = 3;

function tinyModel(testCfg?: SegTestCfg): EncoderDecoder {
  setInitSeed(1);
  const backbone = new TinyViM({ layers: [1, 1, 1, 1], embed_dims: [8, 8, 16, 16], fork_feat: true });
  return new EncoderDecoder({
    backbone,
    neck: new FPN({ in_channels: [8, 8, 16, 16], out_channels: 8, num_outs: 4 }),
    decode_head: new FPNHead({ in_channels: [8, 8, 8, 8], feature_strides: [4, 8, 16, 32], channels: 8, num_classes: NUM_CLASSES }),
    test_cfg: testCfg,
  });
}

function meta(filename: string, h: number, w: number, ori: [number, number] = [h, w]): ImgMeta {
  return {
    filename,
    ori_filename: filename,
    ori_shape: [ori[0], ori[1], 3],
    img_shape: [h, w, 3],
    pad_shape: [h, w, 3],
    scale_factor: [1, 1, 1, 1],
    flip: false,
    flip_direction: null,
  };
}

/** Two 32x32 images: class 1 where the image is bright in channel 0, class 2 in channel 1, else 0; a 255 border. */
function makeBatch(): SegBatch {
  const n = 2;
  const h = 32;
  const w = 32;
  const data = new Float32Array(n * h * w * 3);
  const gt = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (i * h + y) * w + x;
        const cls = (x + y * (i + 1)) % 24 < 8 ? 1 : y > 20 ? 2 : 0;
        data[3 * p] = cls === 1 ? 1.5 : -0.5;
        data[3 * p + 1] = cls === 2 ? 1.5 : -0.5;
        data[3 * p + 2] = 0.1 * ((x * 7 + y) % 5);
        gt[p] = y === 0 ? 255 : cls;
      }
    }
  }
  return { kind: 'seg', data, shape: [n, h, w, 3], metas: [meta('a.jpg', h, w), meta('b.jpg', h, w)], gt_semantic_seg: gt };
}

describe('EncoderDecoder (Semantic FPN)', () => {
  beforeAll(async () => {
    registerWasmGradKernels();
    await tf.setBackend('wasm');
  });

  it('trains: the loss decreases and the tensor count stays constant', () => {
    const model = tinyModel();
    const batch = makeBatch();
    const opt = tf.train.adam(1e-2);
    const losses: number[] = [];
    const counts: number[] = [];
    for (let it = 0; it < 12; it++) {
      let acc = 0;
      const { value, grads } = tf.variableGrads(() => {
        const l = model.forwardTrain(batch);
        expect(Object.keys(l)).toEqual(['decode.loss_ce', 'decode.acc_seg']);
        acc = l['decode.acc_seg'].dataSync()[0];
        return l['decode.loss_ce'];
      });
      opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
      losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
      counts.push(tf.memory().numTensors);
      expect(acc).toBeGreaterThanOrEqual(0);
      expect(acc).toBeLessThanOrEqual(100);
    }
    // Adam creates its moment variables on the first step; afterwards nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(Math.min(...losses.slice(-3))).toBeLessThan(0.8 * losses[0]);
    expect(losses[11]).toBeLessThan(losses[5]);
    opt.dispose();
    model.dispose();
  });

  it('rejects label values outside [0, num_classes) other than 255, naming the image', () => {
    const model = tinyModel();
    const batch = makeBatch();
    batch.gt_semantic_seg![32 * 32 + 40] = 7;
    expect(() => model.forwardTrain(batch)).toThrow(LabelValueError);
    expect(() => model.forwardTrain(batch)).toThrow(/label map of b\.jpg: label value 7 is outside \[0, 3\)/);
    model.dispose();
  });

  it('predicts per image at the original size, cropping collate padding first', async () => {
    const model = tinyModel();
    model.module.eval();
    const batch = makeBatch();
    // Image b is 32x24 inside the 32x32 padded batch and was resized from 40x30.
    batch.metas[1] = meta('b.jpg', 32, 24, [40, 30]);
    const before = tf.memory().numTensors;
    const res = await model.predict(batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.map((r) => [r.filename, r.height, r.width, r.sem_seg.length])).toEqual([
      ['a.jpg', 32, 32, 1024],
      ['b.jpg', 40, 30, 1200],
    ]);
    expect(res.every((r) => r.sem_seg.every((v) => v < NUM_CLASSES))).toBe(true);
    model.dispose();
  });

  it('test-time Pad: the network runs on the pipeline-padded image, logits cropped to img_shape (mmseg 0.30)', async () => {
    const model = tinyModel();
    model.module.eval();
    // Pipeline: a 30x60 image padded to 32x64 (pad_shape); collate then pads the batch to 32x96.
    const [H, W] = [32, 96];
    const data = new Float32Array(H * W * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.7);
    const m = { ...meta('p.jpg', 30, 60, [45, 90]), pad_shape: [32, 64, 3] as [number, number, number] };
    const res = await model.predict({ kind: 'seg', data, shape: [1, H, W, 3], metas: [m] });
    const want = tf.tidy(() => {
      const x = tf.slice(tf.tensor4d(data, [1, H, W, 3]), [0, 0, 0, 0], [1, 32, 64, 3]) as tf.Tensor4D;
      const logits = tf.slice(model.module.encodeDecode(x), [0, 0, 0, 0], [1, 30, 60, -1]) as tf.Tensor4D;
      return tf.argMax(tf.image.resizeBilinear(logits, [45, 90], false, true), -1).dataSync();
    });
    expect(res[0].sem_seg.length).toBe(45 * 90);
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (res[0].sem_seg[i] !== want[i]) diff++;
    expect(diff).toBe(0);
    model.dispose();
  });

  it('a batch gives exactly the label maps of its images predicted one at a time (whole, slide + flip), with no synchronous read', async () => {
    const { withoutSyncReads } = await import('./helpers/sync_read_guard');
    for (const testCfg of [{ mode: 'whole' as const }, { mode: 'slide' as const, crop_size: [24, 24] as [number, number], stride: [16, 16] as [number, number], flip: true }]) {
      const model = tinyModel(testCfg);
      model.module.eval();
      // Three images in one 32x32 batch: a (32x32), b (32x24 resized from 40x30), c (32x32).
      const two = makeBatch();
      const [H, W] = [32, 32];
      const data = new Float32Array(3 * H * W * 3);
      data.set(two.data, 0);
      data.set(two.data.subarray(0, H * W * 3), 2 * H * W * 3);
      const batch: SegBatch = { kind: 'seg', data, shape: [3, H, W, 3], metas: [meta('a.jpg', 32, 32), meta('b.jpg', 32, 24, [40, 30]), meta('c.jpg', 32, 32)] };
      const { value: together, asyncReads } = await withoutSyncReads(() => model.predict(batch));
      expect(asyncReads).toBe(2); // two size groups: {a, c} and {b}
      for (let i = 0; i < 3; i++) {
        const one: SegBatch = { kind: 'seg', data: data.slice(i * H * W * 3, (i + 1) * H * W * 3), shape: [1, H, W, 3], metas: [batch.metas[i]] };
        const [alone] = await model.predict(one);
        expect(together[i].filename).toBe(alone.filename);
        expect(Array.from(together[i].sem_seg)).toEqual(Array.from(alone.sem_seg));
      }
      model.dispose();
    }
  });

  it('slide inference with a window covering the image equals whole inference; flip averages both views', () => {
    const whole = tinyModel({ mode: 'whole' });
    const slide = tinyModel({ mode: 'slide', crop_size: [64, 64], stride: [32, 32] });
    whole.module.eval();
    slide.module.eval();
    const img = tf.randomNormal([1, 32, 32, 3]) as tf.Tensor4D;
    const m = meta('x.jpg', 32, 32);
    const [a] = whole.inferenceScores(img, m).map((x) => x.seg_logits);
    const [b] = slide.inferenceScores(img, m).map((x) => x.seg_logits);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    // Overlapping windows: 48x48 image, 32x32 crops, stride 16 -> 2x2 windows, each pixel averaged.
    const big = tf.randomNormal([1, 48, 48, 3]) as tf.Tensor4D;
    const slid = tinyModel({ mode: 'slide', crop_size: [32, 32], stride: [16, 16] });
    slid.module.eval();
    const [s] = slid.inferenceScores(big, meta('y.jpg', 48, 48)).map((x) => x.seg_logits);
    expect(s.shape).toEqual([48, 48, NUM_CLASSES]);
    const sums = tf.sum(s, -1).dataSync();
    expect(Math.max(...Array.from(sums, (v) => Math.abs(v - 1)))).toBeLessThan(1e-5);
    whole.testCfg = { mode: 'whole', flip: true };
    const [f] = whole.inferenceScores(img, m).map((x) => x.seg_logits);
    const manual = tf.tidy(() => {
      const flippedScores = tf.reverse(tf.softmax(whole.module.encodeDecode(tf.reverse(img, 2) as tf.Tensor4D)), 2);
      return tf.div(tf.add(a, flippedScores), 2);
    });
    expect(tf.max(tf.abs(tf.sub(f, manual))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([a, b, s, f, manual, img, big]);
    whole.dispose();
    slide.dispose();
    slid.dispose();
  });
});

describe('Semantic FPN with the runner and datasets', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'semfpn-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('evaluating a saved checkpoint reproduces the metrics saved in it; small images are padded to the crop', async () => {
    const { writeShapesAde } = await import('../datasets/synthetic/write');
    const { loadConfig } = await import('../core/config');
    await import('../models/index');
    await import('../datasets/register');
    const { createRunner, buildDataset, buildModel } = await import('../engine/build');
    const { MemoryLogSink } = await import('../engine/log_writer');
    const { readCheckpoint, loadStateDict } = await import('../checkpoint');
    const { buildEvaluator, evalLoader, inferenceOnDataset } = await import('../engine/evaluate');
    // 48..64 px images: smaller than the 64x64 crop, so Pad (seg_pad_val 255) must fill the batch.
    await writeShapesAde(join(dir, 'data'), { train: 4, val: 3, size: 64, seed: 3 });
    const root = join(dir, 'data');
    const opts = [
      `data.train.dataset.data_root=${root}`,
      `data.val.data_root=${root}`,
      `data.test.data_root=${root}`,
      'data.samples_per_gpu=2',
      'data.workers_per_gpu=0',
      'data.train.dataset.pipeline.2.img_scale=[64,64]',
      'data.train.dataset.pipeline.2.ratio_range=[0.75,0.75]',
      'data.train.dataset.pipeline.3.crop_size=[64,64]',
      'data.train.dataset.pipeline.7.size=[64,64]',
      'data.val.pipeline.1.img_scale=[64,64]',
      'model.backbone.layers=[1,1,1,1]',
      'model.backbone.embed_dims=[8,8,16,16]',
      'model.neck.in_channels=[8,8,16,16]',
      'model.neck.out_channels=8',
      'model.decode_head.in_channels=[8,8,8,8]',
      'model.decode_head.channels=8',
      'runner.max_iters=2',
      'checkpoint_config.interval=2',
      'evaluation.interval=2',
      'log_config.interval=1',
    ];
    const { cfg } = await loadConfig('configs/demo/fpn_tinyvim_s_shapes.ts', opts);
    const work = join(dir, 'work');
    const log = new MemoryLogSink();
    const runner = createRunner(cfg, { workDir: work, seed: 0, log, backend: 'wasm' });
    // The crop is 64x64 while images are at most 64 * 0.75 = 48 px: every training batch is padded.
    const loader = runner.trainLoader;
    loader.setEpoch(0);
    for await (const b of loader) {
      const sb = b as SegBatch;
      expect(sb.shape.slice(1, 3)).toEqual([64, 64]);
      const gt = sb.gt_semantic_seg!;
      expect(gt[gt.length - 1]).toBe(255); // bottom-right corner is padding
      expect(sb.data[sb.data.length - 1]).toBe(0);
      break;
    }
    const { metrics } = await runner.run();
    expect(metrics.mIoU).toBeGreaterThanOrEqual(0);
    expect(metrics['IoU.rectangle']).toBeDefined();
    const ckpt = readCheckpoint(join(work, 'iter_2.safetensors'));
    expect(ckpt.meta?.metrics?.mIoU).toBe(metrics.mIoU);
    const model = buildModel(cfg);
    loadStateDict(model.module, ckpt.stateDict, { strict: true });
    const val = buildDataset(cfg, 'val')!;
    const again = await inferenceOnDataset(model, evalLoader(val), buildEvaluator(cfg, val, ['mIoU']));
    for (const k of ['aAcc', 'mIoU', 'mAcc']) expect(again.metrics[k]).toBe(ckpt.meta!.metrics![k]);
    expect(again.metrics).toEqual(ckpt.meta!.metrics);
    model.dispose?.();
  });
});
