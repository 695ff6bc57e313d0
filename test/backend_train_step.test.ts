// One training step (forward, backward, AdamW update) of a small conv/BN/GELU/linear classifier on a
// backend against the same step on the cpu backend: same seeded parameters, same data. It covers the
// kernels a training step needs beyond the TinyViM fixtures (softmax cross-entropy, the optimizer
// update on the backend). The backend under test is TVD_TEST_BACKEND (helpers/test_backend.ts), or
// wasm when that is cpu, the reference itself. Moved from tools/webgpu_check's `train` section.
// Bounds: AdamW's first step moves every weight by about lr (1e-2) whatever the gradient's size, so
// parameters agree to ~1e-5 unless a gradient has the wrong sign or is missing: |loss diff| <= 1e-4 *
// max(1, |loss|) and max |param diff| <= 1e-4 (webgpu on an H200 measured 5.4e-7, docs/webgpu.md).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../engine/optimizers';
import { buildParamEntries } from '../engine/param_groups';
import { BatchNorm2d, Conv2d, Linear } from '../nn/layers';
import { Module } from '../nn/module';
import { selectBackend } from '../ops/backend';
import { testBackend, useTestBackend } from './helpers/test_backend';
import { rng } from './helpers/toy'; // mulberry32: the same numbers on every backend

/** A small classifier touching the training kernels of the backbone: dense/depth-wise/1x1 conv, BN, GELU, linear. */
class SmallNet extends Module {
  readonly conv1 = this.child('conv1', new Conv2d(3, 16, 3, { padding: 1, bias: false }));
  readonly bn1 = this.child('bn1', new BatchNorm2d(16));
  // No biases before a BN: their gradient is zero up to rounding, and Adam would amplify the rounding.
  readonly dw = this.child('dw', new Conv2d(16, 16, 3, { stride: 2, padding: 1, groups: 16, bias: false }));
  readonly pw = this.child('pw', new Conv2d(16, 32, 1, { bias: false }));
  readonly bn2 = this.child('bn2', new BatchNorm2d(32));
  readonly fc = this.child('fc', new Linear(32, 5));
  /** x: NHWC [B, 16, 16, 3] -> logits [B, 5]. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const h1 = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    const h2 = this.bn2.forward(this.pw.forward(this.dw.forward(h1)));
    const g = tf.mul(tf.mul(h2, 0.5), tf.add(1, tf.erf(tf.mul(h2, Math.SQRT1_2))));
    return this.fc.forward(tf.mean(g, [1, 2])) as tf.Tensor2D;
  }
}

/** Overwrites every trainable parameter with seeded values (scale 1/sqrt(fan-in) for weights; norm weights 1 + noise). */
function seedParameters(m: Module, seed: number): void {
  const r = rng(seed);
  for (const [name, v] of m.namedParameters()) {
    const fan = v.rank >= 2 ? v.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    const isNormWeight = v.rank === 1 && name.endsWith('weight');
    const vals = Float32Array.from({ length: v.size }, () => (isNormWeight ? 1 : 0) + (r() * 2 - 1) * (v.rank >= 2 ? 1 / Math.sqrt(fan) : 0.1));
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
  }
}

const host = async (t: tf.Tensor): Promise<Float32Array> => Float32Array.from((await t.data()) as ArrayLike<number>);

/** One step on the current backend; values read back asynchronously (webgpu has no synchronous read). */
async function smallNetStep(): Promise<{ loss: number; params: Map<string, Float32Array> }> {
  const net = new SmallNet().train();
  seedParameters(net, 1234);
  const r = rng(99);
  const x = tf.tensor4d(Float32Array.from({ length: 8 * 16 * 16 * 3 }, () => r() * 2 - 1), [8, 16, 16, 3]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from({ length: 8 }, (_, i) => i % 5), 'int32'), 5));
  const opt = new AdamW(buildParamEntries(net, 1e-2, 0.05));
  const entries = opt.params;
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x)) as tf.Scalar, entries.map((e) => e.variable));
  opt.step(Object.fromEntries(entries.map((e) => [e.name, grads[e.variable.name]])), entries.map((e) => e.baseLr));
  const out = { loss: (await host(value))[0], params: new Map<string, Float32Array>() };
  for (const [name, v] of net.namedParameters()) out.params.set(name, await host(v));
  tf.dispose([value, x, labels, ...Object.values(grads)]);
  opt.dispose();
  net.dispose();
  return out;
}

const underTest = testBackend() === 'cpu' ? 'wasm' : testBackend();

describe(`one AdamW training step on ${underTest} matches cpu`, () => {
  it('loss and every parameter after the step', async () => {
    // The cpu reference first: tensors never move between backends (moving off webgpu reads synchronously).
    await selectBackend('cpu');
    const ref = await smallNetStep();
    if (underTest === 'wasm') await selectBackend('wasm');
    else await useTestBackend();
    expect(tf.getBackend()).toBe(underTest);
    const dev = await smallNetStep();
    expect(Number.isFinite(ref.loss)).toBe(true);
    expect(Math.abs(dev.loss - ref.loss), `loss ${underTest} ${dev.loss} vs cpu ${ref.loss}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(ref.loss)));
    expect([...dev.params.keys()]).toEqual([...ref.params.keys()]);
    for (const [name, v] of ref.params) {
      const w = dev.params.get(name)!;
      let maxDiff = 0;
      for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v[i] - w[i]));
      expect(maxDiff, `${name}: max |${underTest} - cpu| after the step`).toBeLessThanOrEqual(1e-4);
    }
  });
});
