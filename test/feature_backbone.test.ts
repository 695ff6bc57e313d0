// The FeatureBackbone contract with a second backbone: a ResNet-18-style network (torchvision keys)
// plugs into Mask R-CNN and Semantic FPN through its registry entry alone, declares channels and
// strides that match its outputs, and gets init_cfg weights loaded after the model is built.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResNet, TinyViM, asFeatureBackbone } from '../backbones';
import { initWeights, saveStateDictFile, stateDict } from '../checkpoint';
import { MODELS, type TrainableModel } from '../core/registry';
import type { DetBatch, SegBatch } from '../datasets/types';
import type { MaskRCNN } from '../models/mask_rcnn';
import '../models/index';
import { setInitSeed } from '../nn/init';
import { tinyBatch, tinyMaskRcnnConfig } from './helpers/mask_rcnn_tiny';

let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'fb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RESNET = { type: 'ResNet', depth: 18, base_channels: 8 };

describe('FeatureBackbone contract', () => {
  it('ResNet-18 declares the channels and strides of its outputs, with torchvision state_dict keys', () => {
    setInitSeed(0);
    const full = new ResNet({ depth: 18 });
    // torchvision resnet18 has 11,689,512 parameters; without fc (512*1000 + 1000) 11,176,512.
    const params = full.namedSlots().filter(([, s]) => s.kind === 'param').reduce((n, [, s]) => n + s.variable.size, 0);
    expect(params).toBe(11_176_512);
    const keys = [...stateDict(full).keys()];
    expect(keys.slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect(keys).toContain('layer2.0.downsample.0.weight');
    expect(keys).toContain('layer4.1.bn2.num_batches_tracked');
    full.dispose();

    const small = asFeatureBackbone(new ResNet({ depth: 18, base_channels: 8 }));
    const x = tf.randomNormal([1, 70, 45, 3]) as tf.Tensor4D;
    const feats = small.forwardFeatures(small.padInput(x));
    expect(feats.map((f) => f.shape[3])).toEqual([...small.outChannels]);
    expect(feats.map((f) => [f.shape[1], f.shape[2]])).toEqual(small.strides.map((s) => [Math.ceil(70 / s), Math.ceil(45 / s)]));
    tf.dispose([x, ...feats]);
    small.dispose();
  });

  it('a module that does not meet the contract is refused with one clear line', () => {
    const classifier = new TinyViM({ layers: [1, 1, 1, 1], embed_dims: [8, 8, 16, 16], fork_feat: false, num_classes: 2 });
    expect(() => asFeatureBackbone(classifier)).toThrow(/^model\.backbone must produce dense features/);
    classifier.dispose();
  });

  it('Mask R-CNN with a ResNet backbone trains a step and predicts, built from the config alone', async () => {
    setInitSeed(1);
    const cfg = { ...tinyMaskRcnnConfig(2, [8, 16, 32, 64]), backbone: RESNET };
    const model = MODELS.build(cfg as never, undefined, 'model') as unknown as MaskRCNN;
    const batch = tinyBatch(0, 2, 64) as DetBatch;
    const losses = tf.tidy(() => Object.fromEntries(Object.entries(model.forwardTrain(batch)).map(([k, v]) => [k, v.dataSync()[0]])));
    for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
    const results = await model.predict(batch);
    expect(results).toHaveLength(2);
    model.dispose();
  });

  it('Semantic FPN with a ResNet backbone predicts at the original size; init_cfg weights load after construction', async () => {
    setInitSeed(2);
    const seg = (init?: object) =>
      MODELS.build(
        {
          type: 'EncoderDecoder',
          backbone: { ...RESNET, ...(init ? { init_cfg: init } : {}) },
          neck: { type: 'FPN', in_channels: [8, 16, 32, 64], out_channels: 8, num_outs: 4 },
          decode_head: { type: 'FPNHead', in_channels: [8, 8, 8, 8], feature_strides: [4, 8, 16, 32], channels: 8, num_classes: 3 },
        } as never,
        undefined,
        'model',
      ) as TrainableModel<SegBatch, { sem_seg: Uint8Array; height: number; width: number }>;
    const src = seg();
    const file = join(dir, 'resnet.safetensors');
    saveStateDictFile(src.module.namedChildren().find(([n]) => n === 'backbone')![1], file);
    // Building records the init_cfg and opens no file; initWeights loads it afterwards.
    const dst = seg({ type: 'Pretrained', checkpoint: file });
    const key = 'backbone.layer3.0.conv1.weight';
    const value = (m: TrainableModel<SegBatch, unknown>) => stateDict(m.module).get(key)!.data;
    expect(value(dst)).not.toEqual(value(src));
    expect(initWeights(dst.module, () => {})).toEqual({ backbone: 'loaded' });
    expect(value(dst)).toEqual(value(src));

    const [h, w] = [37, 50];
    const meta = { filename: 'x.png', ori_filename: 'x.png', ori_shape: [h, w, 3], img_shape: [h, w, 3], pad_shape: [h, w, 3], scale_factor: [1, 1, 1, 1], flip: false, flip_direction: null };
    const batch = { kind: 'seg', data: new Float32Array(h * w * 3).fill(0.1), shape: [1, h, w, 3], metas: [meta] } as unknown as SegBatch;
    const [r] = await dst.predict!(batch);
    expect([r.height, r.width, r.sem_seg.length]).toEqual([h, w, h * w]);
    src.dispose?.();
    dst.dispose?.();
  });
});
