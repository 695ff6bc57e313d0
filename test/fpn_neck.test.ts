import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FPN, checkFpnInChannels } from '../necks/fpn';
import { stateDict } from '../checkpoint/state_dict';
import { ConfigError } from '../core/errors';

/** Sets every lateral conv to copy its single channel and every output conv to the identity 3x3 kernel. */
function makeIdentityFpn(numOuts: number): FPN {
  const fpn = new FPN({ in_channels: [1, 1], out_channels: 1, num_outs: numOuts });
  for (const m of fpn.lateralConvs.items) {
    m.conv.weight.assign(tf.ones([1, 1, 1, 1]));
    m.conv.bias!.assign(tf.zeros([1]));
  }
  for (const m of fpn.fpnConvs.items) {
    const k = tf.buffer([3, 3, 1, 1]);
    k.set(1, 1, 1, 0, 0);
    m.conv.weight.assign(k.toTensor());
    m.conv.bias!.assign(tf.zeros([1]));
  }
  return fpn;
}

describe('FPN neck', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('has mmdet state_dict names and xavier-initialised convs with zero bias', () => {
    const fpn = new FPN({ in_channels: [48, 64, 168, 224], out_channels: 256, num_outs: 5 });
    const sd = stateDict(fpn);
    expect([...sd.keys()].slice(0, 4)).toEqual(['lateral_convs.0.conv.weight', 'lateral_convs.0.conv.bias', 'lateral_convs.1.conv.weight', 'lateral_convs.1.conv.bias']);
    expect(sd.get('fpn_convs.3.conv.weight')!.shape).toEqual([256, 256, 3, 3]);
    expect(sd.get('lateral_convs.2.conv.weight')!.shape).toEqual([256, 168, 1, 1]);
    expect(sd.size).toBe(16);
    const w = sd.get('fpn_convs.0.conv.weight')!.data as Float32Array;
    const bound = Math.sqrt(6 / (256 * 9 + 256 * 9));
    const maxAbs = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.99 * bound);
    expect([...(sd.get('fpn_convs.0.conv.bias')!.data as Float32Array)].every((v) => v === 0)).toBe(true);
    fpn.dispose();
  });

  it('produces num_outs levels with strides 4..64 and extra levels by stride-2 subsampling', () => {
    const fpn = new FPN({ in_channels: [8, 16, 24, 32], out_channels: 16, num_outs: 5 });
    const feats = [8, 16, 24, 32].map((c, i) => tf.randomNormal([2, 16 >> i, 20 >> i, c]) as tf.Tensor4D);
    const before = tf.memory().numTensors;
    const outs = fpn.forward(feats);
    // Inputs are 16x20, 8x10, 4x5, 2x2; the extra level is ceil(2 / 2) = 1.
    expect(outs.map((o) => o.shape)).toEqual([
      [2, 16, 20, 16],
      [2, 8, 10, 16],
      [2, 4, 5, 16],
      [2, 2, 2, 16],
      [2, 1, 1, 16],
    ]);
    expect(tf.memory().numTensors).toBe(before + 5);
    tf.dispose([...outs, ...feats]);
    fpn.dispose();
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`computes the hand-checked top-down sum with PyTorch's nearest rule (${backend})`, async () => {
      await tf.setBackend(backend);
      const fpn = makeIdentityFpn(3);
      // Level 0 is 5x5 zeros, level 1 is 3x3 with values 1..9: the finer output is the nearest upsampling
      // of level 1 to 5x5 with src = floor(dst * 3 / 5) = [0, 0, 1, 1, 2] (torch F.interpolate size mode).
      const x0 = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
      const x1 = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const [o0, o1, o2] = fpn.forward([x0, x1]);
      const idx = [0, 0, 1, 1, 2];
      const expected: number[] = [];
      for (const r of idx) for (const c of idx) expected.push(1 + 3 * r + c);
      expect(Array.from(o0.dataSync())).toEqual(expected);
      expect(Array.from(o1.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // max_pool2d(kernel 1, stride 2) of 3x3 keeps rows/cols 0 and 2.
      expect(o2.shape).toEqual([1, 2, 2, 1]);
      expect(Array.from(o2.dataSync())).toEqual([1, 3, 7, 9]);
      tf.dispose([o0, o1, o2, x0, x1]);
      fpn.dispose();
      await tf.setBackend('cpu');
    });
  }

  it('back-propagates through the max-pool extra level', () => {
    const fpn = makeIdentityFpn(3);
    const a = tf.randomNormal([1, 8, 8, 1]) as tf.Tensor4D;
    const b = tf.randomNormal([1, 4, 4, 1]) as tf.Tensor4D;
    // Only the extra level (2x2, every other pixel of level 1) feeds the loss.
    const g = tf.grad((x: tf.Tensor) => tf.sum(fpn.forward([a, x as tf.Tensor4D])[2]))(b);
    const grad = Array.from(g.dataSync());
    // Pixels (0,0), (0,2), (2,0), (2,2) of level 1 each reach one output; with identity convs, so do their sources.
    expect(grad.filter((v) => v !== 0).length).toBeGreaterThan(0);
    expect(grad.reduce((s, v) => s + v, 0)).toBeCloseTo(4, 5);
    fpn.dispose();
  });

  it('rejects in_channels that differ from the backbone, naming both lists', () => {
    expect(() => checkFpnInChannels([48, 64, 168, 224], [48, 96, 192, 384])).toThrow(ConfigError);
    expect(() => checkFpnInChannels([48, 64, 168, 224], [48, 96, 192, 384])).toThrow(
      'neck.in_channels is [48, 96, 192, 384] but the backbone outputs channels [48, 64, 168, 224]',
    );
    expect(() => checkFpnInChannels([1, 2], [1, 2])).not.toThrow();
    const fpn = new FPN({ in_channels: [4, 8], out_channels: 4, num_outs: 2 });
    const bad = [tf.zeros([1, 4, 4, 4]), tf.zeros([1, 2, 2, 6])] as tf.Tensor4D[];
    expect(() => fpn.forward(bad)).toThrow(/level 1 has 6 channels, expected 8/);
    tf.dispose(bad);
    fpn.dispose();
  });
});
