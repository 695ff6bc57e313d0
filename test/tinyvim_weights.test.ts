// TinyViM end to end from a real .pth (tiny backbone), the TinyViM_S naming contract, parameter counts, variant
// mismatch errors, our own checkpoint round trip and the input-size rule, on TVD_TEST_BACKEND (cpu by
// default; helpers/test_backend.ts). Output tolerance |a-b| <= 1e-4 + 1e-4|b|, x10 on webgpu (reference
// float32 vs float64 differ by <= 1.8e-5 at |out| <= 8).
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputSizeError, TinyViM, TinyViM_S, isValidInputSize, nextValidInputSize, resolveTinyViMConfig, variantConfig } from '../backbones/tinyvim';
import { tinyvimComplexity } from '../backbones/tinyvim/complexity';
import { StateDictError, loadStateDict, loadWeights, readCheckpoint, saveStateDictFile } from '../checkpoint';
import { torchShape } from '../nn/module';
import { FIXTURES, expectClose, fixture, tensorOf, toNCHW, toNHWC } from './helpers/tinyvim';
import { hasSyncReads, onBackend, useTestBackend } from './helpers/test_backend';

beforeAll(async () => {
  await useTestBackend();
});

// The 0.9 MB tiny backbone checkpoint (a real torch.save zip with int64 num_batches_tracked) plays the
// role of the 22 MB TinyViM_S one, which is not kept in the repository.
const PTH = FIXTURES + 'tiny_backbone.pth';
const tinyCfg = () => resolveTinyViMConfig({ layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], fork_feat: true });

describe(onBackend('TinyViM official checkpoint (.pth)'), () => {
  it('loads strictly from the .pth and reproduces the reference outputs', async () => {
    const model = new TinyViM(tinyCfg());
    const report = loadWeights(model, PTH, { strict: true });
    expect(report).toMatchObject({ missing: [], unexpected: [], format: 'pth', prefix: '' });
    model.eval();
    const io = fixture('tiny_backbone.io.safetensors').tensors;
    const outs = model.forwardFeatures(toNHWC(tensorOf(io, 'input')));
    for (const [i, o] of outs.entries()) await expectClose(toNCHW(o), tensorOf(io, `out${i}`), 1e-4, 1e-4, `tiny out${i}`);
    model.dispose();
  });

  // Saving reads the weights synchronously (checkpoint/state_dict.ts stateDict), which webgpu under Node cannot.
  it.skipIf(!hasSyncReads())('our own checkpoint format (safetensors, PyTorch names/layouts) round-trips exactly (not on webgpu: saving reads synchronously)', async () => {
    const model = new TinyViM(tinyCfg());
    loadWeights(model, PTH, { strict: true });
    model.eval();
    const io = fixture('tiny_backbone.io.safetensors').tensors;
    const outs = model.forwardFeatures(toNHWC(tensorOf(io, 'input')));
    const path = join(mkdtempSync(join(tmpdir(), 'tv-')), 'tiny.safetensors');
    saveStateDictFile(model, path, { arch: 'TinyViM_tiny' });
    const again = new TinyViM(tinyCfg());
    expect(loadWeights(again, path, { strict: true }).format).toBe('safetensors');
    expect(readCheckpoint(path).metadata.arch).toBe('TinyViM_tiny');
    again.eval();
    const outs2 = again.forwardFeatures(toNHWC(tensorOf(io, 'input')));
    for (const [i, o] of outs2.entries()) await expectClose(o, outs[i], 0, 0, `round trip out${i}`);
    model.dispose();
    again.dispose();
  });

  it('has exactly the official state_dict keys, order and shapes', () => {
    const contract = JSON.parse(readFileSync(FIXTURES + 'tinyvim_s_backbone_keys.json', 'utf8')) as { keys: { key: string; shape: number[] }[] };
    const model = TinyViM_S({ fork_feat: true });
    const ours = model.namedSlots().map(([k, s]) => ({ key: k, shape: torchShape(s.variable.shape, s.layout) }));
    expect(ours.map((k) => k.key)).toEqual(contract.keys.map((k) => k.key));
    expect(ours.map((k) => k.shape)).toEqual(contract.keys.map((k) => k.shape));
    model.dispose();
  });

  it('a checkpoint of another variant fails naming the key and both shapes', () => {
    const model = TinyViM_S({ fork_feat: true });
    let err: unknown;
    try {
      loadWeights(model, PTH, { strict: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateDictError);
    expect((err as Error).message).toContain('patch_embed.0.c.weight (checkpoint [8,3,3,3], model [24,3,3,3])');
    model.dispose();
  });

  it('non-strict loading reports missing and unexpected keys; strict loading fails on them', () => {
    const sd = readCheckpoint(PTH).stateDict;
    const prefixed = new Map([...sd].map(([k, v]) => [`backbone.${k}`, v]));
    prefixed.set('neck.lateral.weight', sd.get('norm0.weight')!);
    prefixed.delete('backbone.norm6.weight');
    const model = new TinyViM(tinyCfg());
    const stripped = new Map([...prefixed].filter(([k]) => k.startsWith('backbone.')).map(([k, v]) => [k.slice(9), v]));
    expect(loadStateDict(model, stripped, { strict: false }).missing).toEqual(['norm6.weight']);
    expect(() => loadStateDict(model, stripped, { strict: true })).toThrow(/does not match the model: missing keys: norm6\.weight$/);
    const unexpected = loadStateDict(model, prefixed, { strict: false }).unexpected;
    expect(unexpected.length).toBe(prefixed.size);
    model.dispose();
  });
});

describe(onBackend('parameter and MAC counts (param_counts.json)'), () => {
  const ref = JSON.parse(readFileSync(FIXTURES + 'param_counts.json', 'utf8')).models;
  for (const v of ['S', 'B', 'L'] as const) {
    it(`TinyViM_${v}: analytic counts, and the built S model, equal the official numbers`, () => {
      const r = ref[`TinyViM_${v}`];
      const cls = variantConfig(v);
      expect(tinyvimComplexity(cls, 224, 224).params).toBe(r.classification.params);
      expect(tinyvimComplexity(variantConfig(v, { fork_feat: true }), 224, 224).params).toBe(r.backbone_fork_feat.params);
      expect(tinyvimComplexity(cls, 224, 224, true).params).toBe(r.fused_reparameterized.fused_params_with_dist_head);
      expect(tinyvimComplexity(variantConfig(v, { distillation: false }), 224, 224, true).params).toBe(r.fused_reparameterized.fused_params_without_dist_head);
      const c = tinyvimComplexity(cls, 224, 224);
      expect(c.macs).toBe(r.macs_224_classification.conv_plus_linear);
      expect(c.scanMacs).toBe(r.macs_224_classification.ss2d_proj_einsum + r.macs_224_classification.scan_core);
      if (v === 'S') {
        const m = new TinyViM(cls);
        expect(m.numParameters()).toBe(r.classification.params);
        expect(m.namedSlots().length).toBe(r.classification.state_dict_entries);
        m.eval().fuse();
        expect(m.numParameters()).toBe(r.fused_reparameterized.fused_params_with_dist_head);
        m.dispose();
      }
    });
  }
});

describe(onBackend('input sizes'), () => {
  const cfg = resolveTinyViMConfig({ layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], fork_feat: true });
  it('accepts exactly X mod 32 in {0, 29, 30, 31}, X >= 29', () => {
    for (let x = 1; x <= 200; x++) expect(isValidInputSize(cfg, x), `X=${x}`).toBe(x >= 29 && [0, 29, 30, 31].includes(x % 32));
    expect(nextValidInputSize(cfg, 70)).toBe(93);
  });
  it('fails with a clear error naming the rule, and padInput makes any size work', () => {
    const model = new TinyViM(cfg).eval();
    const x = tf.randomUniform([1, 70, 90, 3]) as tf.Tensor4D;
    expect(() => model.forwardFeatures(x)).toThrow(InputSizeError);
    expect(() => model.forwardFeatures(x)).toThrow(/input height 70 is not supported: every side X must satisfy ceil\(X\/4\) % 8 == 0 \(X mod 32 in \{0, 29, 30, 31\}/);
    const padded = model.padInput(x);
    expect(padded.shape).toEqual([1, 93, 93, 3]);
    expect(model.forwardFeatures(padded).map((o) => o.shape)).toEqual([
      [1, 24, 24, 16],
      [1, 12, 12, 32],
      [1, 6, 6, 48],
      [1, 3, 3, 64],
    ]);
    expect(model.forwardFeatures(tf.zeros([1, 29, 61, 3])).map((o) => o.shape.slice(1, 3))).toEqual([
      [8, 16],
      [4, 8],
      [2, 4],
      [1, 2],
    ]);
    expect(() => model.forwardFeatures(tf.zeros([1, 64, 64, 4]) as tf.Tensor4D)).toThrow(/expected an NHWC float32 image batch \[B, H, W, 3\]/);
    model.dispose();
  });
});
