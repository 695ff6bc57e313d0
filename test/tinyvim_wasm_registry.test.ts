// TinyViM on the wasm backend (forward parity with the reference) and its registry entries.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKBONES } from '../core/registry';
import { TinyViM, pretrainedOf } from '../backbones';
import { loadStateDict } from '../checkpoint/state_dict';
import { expectClose, fixture, tensorOf, toNCHW, toNHWC } from './helpers/tinyvim';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('wasm backend', () => {
  it('tiny backbone eval outputs match the reference (|a-b| <= 1e-4 + 1e-4|b|), no tensor leaks', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const w = fixture('tiny_backbone.weights.safetensors');
    const model = new TinyViM({ layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], fork_feat: true });
    loadStateDict(model, w.tensors, { strict: true });
    model.eval();
    const io = fixture('tiny_backbone.io.safetensors').tensors;
    const x = toNHWC(tensorOf(io, 'input'));
    const before = tf.memory().numTensors;
    const outs = model.forwardFeatures(x);
    expect(tf.memory().numTensors).toBe(before + 4);
    for (const [i, o] of outs.entries()) await expectClose(toNCHW(o), tensorOf(io, `out${i}`), 1e-4, 1e-4, `wasm out${i}`);
    model.fuse();
    for (const [i, o] of model.forwardFeatures(x).entries()) await expectClose(toNCHW(o), tensorOf(io, `out${i}`), 1e-4, 1e-4, `wasm fused out${i}`);
    model.dispose();
  });
});

describe('registry', () => {
  it("registers 'TinyViM' (official constructor fields) and TinyViM_S/B/L, recording init_cfg", () => {
    const m = BACKBONES.build(
      { type: 'TinyViM', layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], fork_feat: true, init_cfg: { type: 'Pretrained', checkpoint: 'x.pth' } },
      undefined,
    ) as TinyViM;
    expect(m).toBeInstanceOf(TinyViM);
    expect(m.outChannels).toEqual([16, 32, 48, 64]);
    expect(pretrainedOf(m)).toEqual({ checkpoint: 'x.pth', prefix: undefined });
    m.dispose();
    const s = BACKBONES.build({ type: 'TinyViM_S', fork_feat: true }, undefined) as TinyViM;
    expect(s.cfg.embed_dims).toEqual([48, 64, 168, 224]);
    s.dispose();
    expect(() => BACKBONES.build({ type: 'TinyViM', layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], drop_rate: 0.1 }, undefined)).toThrow(/drop_rate/);
  });
});
