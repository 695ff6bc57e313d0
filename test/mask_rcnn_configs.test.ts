// The recipe configs (TinyViM-S/B/L Mask R-CNN, 1x COCO) and the demo config load and validate; the
// full-size models (recipe heads: FPN 256, fc 1024, 4x256 mask convs, 512 sampled RoIs) run one
// training step and one inference at a reduced image size without leaking tensors; a missing
// ImageNet checkpoint in init_cfg is a warning and the backbone trains from scratch.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../ops/wasm_grad_kernels';
import { loadConfig } from '../core/config';
import '../backbones';
import '../datasets/register';
import { MaskRCNN } from '../models/mask_rcnn';
import { initWeights } from '../checkpoint';
import { buildMaskRCNN, type MaskRCNNConfig } from '../models/mask_rcnn_builder';
import { setInitSeed } from '../nn/init';
import { tinyBatch } from './helpers/mask_rcnn_tiny';

beforeAll(async () => {
  registerWasmGradKernels();
  await tf.setBackend('wasm');
});
afterAll(() => vi.restoreAllMocks());

const RECIPES = {
  s: [48, 64, 168, 224],
  b: [48, 96, 192, 384],
  l: [64, 128, 384, 512],
} as const;

describe('Mask R-CNN configs', () => {
  for (const [v, dims] of Object.entries(RECIPES)) {
    it(`TinyViM-${v.toUpperCase()} recipe: validates, builds, trains one step and predicts at 128x128 without leaks`, async () => {
      const { cfg } = await loadConfig(`configs/mask_rcnn/mask_rcnn_tinyvim_${v}_fpn_1x_coco.ts`);
      expect(cfg.optimizer).toMatchObject({ type: 'AdamW', lr: 0.0002, weight_decay: 0.05 });
      expect(cfg.lr_config).toMatchObject({ policy: 'step', warmup: 'linear', warmup_iters: 500, warmup_ratio: 1e-6, step: [8, 11] });
      expect(cfg.runner).toEqual({ type: 'EpochBasedRunner', max_epochs: 12 });
      expect(cfg.data.samples_per_gpu).toBe(2);
      const m = cfg.model as unknown as MaskRCNNConfig;
      expect(m.neck.in_channels).toEqual([...dims]);
      expect(m.train_cfg.rcnn.sampler.num).toBe(512);
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      setInitSeed(0);
      const model = buildMaskRCNN(m);
      initWeights(model.module);
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/init_cfg\.checkpoint .*not found; the backbone is trained from scratch/);
      warn.mockRestore();
      expect(model).toBeInstanceOf(MaskRCNN);
      const batch = tinyBatch(3, 2, 128);
      // Plain SGD keeps no slot variables, so one step must leave the live tensor count unchanged.
      const opt = tf.train.sgd(1e-4);
      const start = tf.memory().numTensors;
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const l = model.forwardTrain(batch);
          return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, t]) => t)) as tf.Scalar;
        });
        opt.applyGradients(grads as never);
        return value.dataSync()[0];
      });
      expect(Number.isFinite(loss)).toBe(true);
      expect(tf.memory().numTensors).toBe(start);
      const before = tf.memory().numTensors;
      const [r] = await model.predict(tinyBatch(4, 1, 128));
      expect(tf.memory().numTensors).toBe(before);
      expect(r.scores.length).toBeLessThanOrEqual(100);
      model.dispose();
      opt.dispose();
    });
  }

  it('the demo config validates and keeps the recipe structure with lighter heads', async () => {
    const { cfg } = await loadConfig('configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts');
    const m = cfg.model as unknown as MaskRCNNConfig;
    expect(m.backbone).toMatchObject({ type: 'TinyViM', layers: [3, 3, 9, 6], embed_dims: [48, 64, 168, 224] });
    expect(m.rpn_head.anchor_generator.strides).toEqual([4, 8, 16, 32, 64]);
    expect(m.test_cfg.rcnn).toEqual({ score_thr: 0.05, nms: { type: 'nms', iou_threshold: 0.5 }, max_per_img: 100, mask_thr_binary: 0.5 });
    expect(m.roi_head.bbox_head.num_classes).toBe(4);
  });
});
