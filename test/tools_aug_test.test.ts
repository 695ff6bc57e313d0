// Semantic segmentation --aug-test: mmseg aug_test averages the softmax of every (ratio, flip) view
// at the original size.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TinyViM } from '../backbones';
import { FPN } from '../necks/fpn';
import { FPNHead } from '../heads/seg/fpn_head';
import { EncoderDecoder, type SegTestCfg } from '../models/encoder_decoder';
import { resizeBilinear } from '../ops/resize';
import { setInitSeed } from '../nn/init';
import { applyAugTest, MMSEG_IMG_RATIOS } from '../tools/lib/aug_test';
import type { Config } from '../core/config_root';

function tinyModel(testCfg?: SegTestCfg): EncoderDecoder {
  setInitSeed(1);
  const backbone = new TinyViM({ layers: [1, 1, 1, 1], embed_dims: [8, 8, 16, 16], fork_feat: true });
  const m = new EncoderDecoder({
    backbone,
    neck: new FPN({ in_channels: [8, 8, 16, 16], out_channels: 8, num_outs: 4 }),
    decode_head: new FPNHead({ in_channels: [8, 8, 8, 8], feature_strides: [4, 8, 16, 32], channels: 8, num_classes: 3 }),
    test_cfg: testCfg,
  });
  m.module.eval();
  return m;
}

// A 64x64 test image (so 0.5 / 1.0 / 1.5 give the 32-aligned sizes 32, 64, 96) of a 40x48 original.
const meta: { ori_shape: [number, number, number]; img_shape: [number, number, number] } = { ori_shape: [40, 48, 3], img_shape: [64, 64, 3] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('--aug-test', () => {
  it('img_ratios + flip = mean of the softmax of every view resized to the original size', () => {
    const model = tinyModel({ mode: 'whole', flip: true, img_ratios: [0.5, 1.0, 1.5] });
    const img = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const [sample] = model.inferenceScores(img, meta);
    const got = sample.seg_logits; // [H_ori, W_ori, C]
    const expected = tf.tidy(() => {
      const views: tf.Tensor4D[] = [];
      for (const size of [32, 64, 96]) {
        const x = size === 64 ? img : resizeBilinear(img, [size, size], false);
        for (const flip of [false, true]) {
          const xin = flip ? (tf.reverse(x, 2) as tf.Tensor4D) : x;
          let s = tf.softmax(resizeBilinear(model.module.encodeDecode(xin), [40, 48], false)) as tf.Tensor4D;
          if (flip) s = tf.reverse(s, 2) as tf.Tensor4D;
          views.push(s);
        }
      }
      return tf.div(tf.addN(views), views.length);
    });
    expect(got.shape).toEqual([40, 48, 3]);
    expect(tf.max(tf.abs(tf.sub(got, expected))).dataSync()[0]).toBeLessThan(1e-5);
    // differs from the single-scale test (the views are really used)
    const [singleSample] = tinyModel({ mode: 'whole' }).inferenceScores(img, meta);
    const single = singleSample.seg_logits;
    expect(tf.max(tf.abs(tf.sub(got, single))).dataSync()[0]).toBeGreaterThan(1e-3);
    tf.dispose([img, expected]);
    sample.dispose();
    singleSample.dispose();
  });

  it('each scale is rounded up to a multiple of 32 as AlignResize does (0.75 x 64 = 48 -> 64)', () => {
    const model = tinyModel({ mode: 'whole', img_ratios: [0.75] });
    const img = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const [a] = model.inferenceScores(img, meta).map((s) => s.seg_logits);
    const [b] = tinyModel({ mode: 'whole' }).inferenceScores(img, meta).map((s) => s.seg_logits);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([img, a, b]);
  });

  it('applyAugTest sets flip and mmseg ratios on a segmentor config, keeps given ratios, refuses detectors', () => {
    const seg = { model: { type: 'EncoderDecoder', test_cfg: { mode: 'whole' } } } as unknown as Config;
    applyAugTest(seg, 'c.ts');
    expect((seg.model as unknown as { test_cfg: unknown }).test_cfg).toEqual({ mode: 'whole', flip: true, img_ratios: MMSEG_IMG_RATIOS });
    const given = { model: { type: 'EncoderDecoder', test_cfg: { mode: 'slide', img_ratios: [1, 2] } } } as unknown as Config;
    applyAugTest(given, 'c.ts');
    expect((given.model as unknown as { test_cfg: { img_ratios: number[] } }).test_cfg.img_ratios).toEqual([1, 2]);
    expect(() => applyAugTest({ model: { type: 'MaskRCNN' } } as unknown as Config, 'm.ts')).toThrow(/m.ts: --aug-test is for segmentors/);
  });
});
