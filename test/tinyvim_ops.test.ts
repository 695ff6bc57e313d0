// Selective scan and cross scan/merge against the PyTorch reference fixtures, on TVD_TEST_BACKEND
// (cpu by default; helpers/test_backend.ts).
// Tolerances (fixtures README): values |a-b| <= 1e-4 + 1e-4|b|; gradients max|a-b| <= 1e-4 * max|b|.
// The reference scan was computed in float64; our kernel also accumulates in float64, so the observed
// error is float32 rounding of inputs/outputs only (~1e-6).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectiveScan } from '../ops/selective_scan/selective_scan';
import { crossMerge, crossScan } from '../ops/selective_scan/cross_scan';
import { expectClose, expectGradClose, fixture, tensorOf } from './helpers/tinyvim';
import { onBackend, useTestBackend } from './helpers/test_backend';

beforeAll(async () => {
  await useTestBackend();
});

describe(onBackend('selective scan'), () => {
  it('forward and all seven gradients match the reference', async () => {
    const f = fixture('selective_scan.safetensors').tensors;
    const names = ['u', 'delta', 'A', 'B', 'C', 'D', 'delta_bias'] as const;
    const ins = names.map((n) => tensorOf(f, n));
    const w = tensorOf(f, 'w');
    const run = (...xs: tf.Tensor[]) =>
      selectiveScan(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor2D, xs[3] as tf.Tensor4D, xs[4] as tf.Tensor4D, xs[5], xs[6], {
        deltaSoftplus: true,
      });
    await expectClose(run(...ins), tensorOf(f, 'y'), 1e-4, 1e-4, 'y');
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(run(...xs), w)))(ins);
    for (const [i, n] of names.entries()) await expectGradClose(grads[i], tensorOf(f, `grad.${n}`), 1e-4, `grad.${n}`);
  });

  it('does not leak tensors and costs no tensor per time step', () => {
    const f = fixture('selective_scan.safetensors').tensors;
    const ins = ['u', 'delta', 'A', 'B', 'C', 'D', 'delta_bias'].map((n) => tensorOf(f, n));
    const before = tf.memory().numTensors;
    const y = selectiveScan(ins[0] as tf.Tensor3D, ins[1] as tf.Tensor3D, ins[2] as tf.Tensor2D, ins[3] as tf.Tensor4D, ins[4] as tf.Tensor4D, ins[5], ins[6]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects inconsistent shapes with a clear message', () => {
    const u = tf.zeros([1, 6, 5]) as tf.Tensor3D;
    const A = tf.zeros([6, 4]) as tf.Tensor2D;
    const B = tf.zeros([1, 4, 4, 5]) as tf.Tensor4D; // 6 channels cannot be split into 4 groups
    expect(() => selectiveScan(u, u, A, B, B, null, null)).toThrow(/multiple of the B\/C groups/);
  });
});

describe(onBackend('cross scan / merge'), () => {
  it('match the reference values and gradients', async () => {
    const f = fixture('cross_scan_merge.safetensors').tensors;
    const x = tensorOf(f, 'x') as tf.Tensor4D;
    const ys = tensorOf(f, 'ys') as tf.Tensor5D;
    await expectClose(crossScan(x), tensorOf(f, 'cross_scan'), 1e-6, 1e-6, 'cross_scan');
    await expectClose(crossMerge(ys), tensorOf(f, 'cross_merge'), 1e-5, 1e-5, 'cross_merge');
    const wS = tensorOf(f, 'w_cross_scan');
    const wM = tensorOf(f, 'w_cross_merge');
    const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(crossScan(t as tf.Tensor4D), wS)))(x);
    const gys = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(crossMerge(t as tf.Tensor5D), wM)))(ys);
    await expectGradClose(gx, tensorOf(f, 'grad.x'), 1e-5, 'grad.x');
    await expectGradClose(gys, tensorOf(f, 'grad.ys'), 1e-5, 'grad.ys');
  });
});
