// TinyViM tiny fork_feat backbone against the official PyTorch outputs: eval outputs,
// re-parameterised (fused) outputs, training-mode outputs, gradients and running statistics, on
// TVD_TEST_BACKEND (cpu by default; helpers/test_backend.ts: tolerances x10 on webgpu).
// Tolerances (fixtures README, "Tolerances observed"): outputs |a-b| <= 1e-4 + 1e-4|b| (float32 vs
// float64 of the reference differ by <= 6e-6 at |out| <= 7.6); gradients max|a-b| <= 1e-4 * max|b|
// (reference float32/float64 spread <= 2e-6 relative). Wrong variants of the model miss by 5e-3 .. 5.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TinyViM, resolveTinyViMConfig } from '../backbones/tinyvim';
import { loadStateDict } from '../checkpoint/state_dict';
import { expectClose, expectGradClose, fixture, tensorOf, toNCHW, toNHWC } from './helpers/tinyvim';
import { onBackend, useTestBackend } from './helpers/test_backend';

beforeAll(async () => {
  await useTestBackend();
});

/** Builds the model described by a fixture's `config` metadata and loads its weights (non-strict: num_batches_tracked is absent). */
function tinyModel(weightsFile: string): TinyViM {
  const w = fixture(weightsFile);
  const meta = JSON.parse(w.metadata.config) as Record<string, unknown>;
  const keys = ['layers', 'embed_dims', 'mlp_ratios', 'downsamples', 'ssm_num', 'fork_feat', 'num_classes', 'distillation'];
  const cfg = Object.fromEntries(keys.filter((k) => k in meta).map((k) => [k, meta[k]]));
  const model = new TinyViM(resolveTinyViMConfig(cfg));
  const report = loadStateDict(model, w.tensors, { strict: true, source: weightsFile });
  expect(report.unexpected).toEqual([]);
  expect(report.missing.every((k) => k.endsWith('num_batches_tracked'))).toBe(true);
  return model;
}

describe(onBackend('tiny backbone (fork_feat)'), () => {
  it('eval outputs match, unfused and fused', async () => {
    const model = tinyModel('tiny_backbone.weights.safetensors').eval();
    const io = fixture('tiny_backbone.io.safetensors').tensors;
    const x = toNHWC(tensorOf(io, 'input'));
    const check = async (tag: string) => {
      const outs = model.forwardFeatures(x);
      expect(outs.length).toBe(4);
      for (const [i, o] of outs.entries()) await expectClose(toNCHW(o), tensorOf(io, `out${i}`), 1e-4, 1e-4, `${tag} out${i}`);
      return outs;
    };
    const unfused = await check('unfused');
    const nParams = model.numParameters();
    model.fuse();
    expect(model.fused).toBe(true);
    expect(model.numParameters()).toBeLessThan(nParams);
    // Fused keys follow the official deploy names.
    const keys = model.namedSlots().map(([k]) => k);
    expect(keys).toContain('patch_embed.0.weight');
    expect(keys).toContain('network.0.0.op.conv2d.dwconv_h.weight');
    expect(keys.some((k) => k.includes('.bn.'))).toBe(false);
    const fused = await check('fused');
    for (const [i, o] of fused.entries()) await expectClose(o, unfused[i], 1e-5, 1e-5, `fused vs unfused out${i}`);
    model.dispose();
  });

  it('train mode: outputs, gradients and running statistics match', async () => {
    const model = tinyModel('tiny_backbone.weights.safetensors').train();
    const f = fixture('tiny_backbone.train_grad.safetensors');
    const t = f.tensors;
    const gradNames = JSON.parse(f.metadata.grad_params) as string[];
    const params = new Map(model.namedParameters());
    const x = tf.variable(toNHWC(tensorOf(t, 'input')), true);
    const ws = [0, 1, 2, 3].map((i) => toNHWC(tensorOf(t, `w${i}`)));
    let outs: tf.Tensor4D[] = [];
    const varList = [x, ...gradNames.map((n) => params.get(n)!)];
    expect(varList.every(Boolean)).toBe(true);
    const { value, grads } = tf.variableGrads(() => {
      outs = model.forwardFeatures(x).map((o) => tf.keep(o));
      return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, ws[i])))) as tf.Scalar;
    }, varList);
    for (const [i, o] of outs.entries()) await expectClose(toNCHW(o), tensorOf(t, `out${i}`), 1e-4, 1e-4, `train out${i}`);
    await expectClose(tf.reshape(value, [1]), tensorOf(t, 'loss'), 1e-3, 1e-5, 'loss');
    await expectGradClose(toNCHW(grads[x.name]), tensorOf(t, 'grad.input'), 1e-4, 'grad.input');
    // Our parameters are stored in tf layout; compare in PyTorch layout.
    const slots = new Map(model.namedSlots());
    for (const n of gradNames) {
      const slot = slots.get(n)!;
      const g = grads[slot.variable.name];
      const torchG = slot.layout === 'conv2d' ? tf.transpose(g, [3, 2, 0, 1]) : slot.layout === 'dwconv' ? tf.transpose(g, [2, 3, 0, 1]) : g;
      await expectGradClose(torchG, tensorOf(t, `grad.${n}`), 1e-4, `grad.${n}`);
    }
    // One training forward updated the running statistics (momentum 0.1, unbiased variance).
    for (const [idx, bn] of [
      [0, model.outNorms.get(0)!],
      [6, model.outNorms.get(6)!],
    ] as const) {
      await expectClose(bn.runningMean, tensorOf(t, `after.norm${idx}.running_mean`), 1e-5, 1e-4, `norm${idx}.running_mean`);
      await expectClose(bn.runningVar, tensorOf(t, `after.norm${idx}.running_var`), 1e-5, 1e-4, `norm${idx}.running_var`);
    }
    model.dispose();
  });
});
