// TinyViM tiny classifier (fork_feat=false, distillation) against the official outputs on
// TVD_TEST_BACKEND (cpu by default; helpers/test_backend.ts). Tolerance |a-b| <= 1e-4 + 1e-4|b|, x10 on
// webgpu (reference float32 vs float64: <= 5e-7 at |logit| <= 0.95).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TinyViM } from '../backbones/tinyvim';
import { loadStateDict } from '../checkpoint/state_dict';
import { expectClose, fixture, tensorOf, toNHWC } from './helpers/tinyvim';
import { onBackend, useTestBackend } from './helpers/test_backend';

beforeAll(async () => {
  await useTestBackend();
});

describe(onBackend('tiny classifier'), () => {
  it('logits, both heads and pooled features match; training returns the (head, dist_head) pair', async () => {
    const w = fixture('tiny_cls.weights.safetensors');
    const meta = JSON.parse(w.metadata.config);
    const model = new TinyViM({
      layers: meta.layers,
      embed_dims: meta.embed_dims,
      downsamples: meta.downsamples,
      fork_feat: false,
      num_classes: meta.num_classes,
      distillation: meta.distillation,
    });
    const report = loadStateDict(model, w.tensors, { strict: true });
    expect(report.unexpected).toEqual([]);
    model.eval();
    const io = fixture('tiny_cls.io.safetensors').tensors;
    const x = toNHWC(tensorOf(io, 'input'));
    const logits = model.forwardLogits(x);
    expect(Array.isArray(logits)).toBe(false);
    await expectClose(logits as tf.Tensor, tensorOf(io, 'logits'), 1e-4, 1e-4, 'logits');
    await expectClose(model.forward(x) as tf.Tensor, tensorOf(io, 'logits'), 1e-4, 1e-4, 'forward');
    const pooled = model.forwardPooled(x);
    await expectClose(pooled, tensorOf(io, 'pooled_features'), 1e-4, 1e-4, 'pooled_features');
    await expectClose(model.head!.forward(pooled), tensorOf(io, 'logits_head'), 1e-4, 1e-4, 'logits_head');
    await expectClose(model.distHead!.forward(pooled), tensorOf(io, 'logits_dist_head'), 1e-4, 1e-4, 'logits_dist_head');
    // Fused classifier gives the same logits.
    model.fuse();
    await expectClose(model.forwardLogits(x) as tf.Tensor, tensorOf(io, 'logits'), 1e-4, 1e-4, 'fused logits');
    model.train();
    const pair = model.forwardLogits(x);
    expect(Array.isArray(pair) && pair.length === 2 && pair[0].shape).toEqual([2, meta.num_classes]);
    model.dispose();
  });
});
