// The fused BatchNorm-train and GELU kernels (ops/webgpu/bn_gelu_webgpu.ts) through ops/fused_ops.ts on
// webgpu (SwiftShader in CI) against the cpu backend's composites: forward values, batch statistics,
// running-stat updates and gradients (x, weight, bias), with and without GELU, odd channel counts,
// batch > 1, and a shape with many row splits. Tolerance as test/webgpu_kernels.test.ts:
// max |webgpu - cpu| <= 1e-4 * max(1, max |cpu|) (float32 sums in another order). Also: the fused
// path really runs on webgpu (kernel calls counted), it leaks no tensors, and cpu keeps the composite.
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_SUMS, BN_RUNNING_UPDATE, BN_STATS, GELU, GELU_GRAD, fusedBnGeluActive } from '../ops/webgpu/bn_gelu_webgpu';
import { batchNormTrain, batchNormTrainStep, geluLean } from '../ops/fused_ops';
import { describeWebgpu, relMaxDiff, runOn, seededValues, setupWebgpu } from './helpers/webgpu';

const gpu = await setupWebgpu();
const TOL = 1e-4;

type Shape = [number, number, number, number];
const SHAPES: { name: string; shape: Shape }[] = [
  { name: 'batch 2, 5 ch', shape: [2, 5, 7, 5] },
  { name: 'batch 1, 3 ch', shape: [1, 4, 3, 3] },
  { name: 'batch 3, 37 ch (3 column tiles)', shape: [3, 6, 5, 37] },
  { name: 'batch 2, 6 ch, many rows (many splits)', shape: [2, 40, 33, 6] },
];

/** x with a per-channel offset and scale (so means and variances differ by channel), weight, bias, dy. */
function data(shape: Shape) {
  const c = shape[3];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = seededValues(n, 3).map((v, i) => v * (1 + (i % c) * 0.3) + ((i % c) - c / 2) * 0.7);
  return { x, w: seededValues(c, 5).map((v) => v + 1.2), b: seededValues(c, 9), dy: seededValues(n, 13) };
}

async function expectSame(what: string, fn: () => tf.Tensor[]): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('webgpu', fn);
  expect(got.length).toBe(ref.length);
  got.forEach((g, i) => expect(relMaxDiff(g, ref[i]), `${what} [${i}]`).toBeLessThanOrEqual(TOL));
}

/** BN forward (+ act) and its gradients w.r.t. x, weight, bias for upstream dy; plus the batch stats. */
function bnCase(shape: Shape, act: 'none' | 'gelu'): () => tf.Tensor[] {
  const d = data(shape);
  return () => {
    const x = tf.tensor4d(d.x, shape);
    const w = tf.tensor1d(d.w);
    const b = tf.tensor1d(d.b);
    const dy = tf.tensor4d(d.dy, shape);
    const { y, stats } = batchNormTrain(x, w, b, 1e-5, act);
    const outs = [y, stats.mean, stats.variance];
    const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
      const r = batchNormTrain(xi as tf.Tensor4D, wi as tf.Tensor1D, bi as tf.Tensor1D, 1e-5, act);
      tf.dispose([r.stats.mean, r.stats.variance]);
      return r.y;
    })([x, w, b], dy);
    return [...outs, ...g];
  };
}

describeWebgpu(gpu, 'fused BatchNorm-train / GELU kernels vs cpu', () => {
  for (const { name, shape } of SHAPES) {
    for (const act of ['none', 'gelu'] as const) {
      it(`BN train ${act === 'gelu' ? '+ GELU ' : ''}forward, stats and gradients: ${name}`, async () => {
        await expectSame(`bn ${act} ${name}`, bnCase(shape, act));
      });
    }
    it(`GELU forward and gradient: ${name}`, async () => {
      const d = data(shape);
      await expectSame(`gelu ${name}`, () => {
        const x = tf.tensor4d(d.x, shape);
        const dy = tf.tensor4d(d.dy, shape);
        return [geluLean(x), tf.grad((xi: tf.Tensor) => geluLean(xi))(x, dy)];
      });
    });
  }

  it('running-stat update (momentum, unbiased variance) matches cpu', async () => {
    const shape: Shape = [2, 5, 6, 7];
    const d = data(shape);
    const fn = () => {
      const bn = {
        weight: tf.variable(tf.tensor1d(d.w)),
        bias: tf.variable(tf.tensor1d(d.b)),
        runningMean: tf.variable(tf.fill([7], 0.25)),
        runningVar: tf.variable(tf.fill([7], 2)),
        numBatchesTracked: tf.variable(tf.scalar(0, 'int32')),
        eps: 1e-5,
        momentum: 0.1,
      };
      tf.dispose(batchNormTrainStep(bn, tf.tensor4d(d.x, shape), 'gelu'));
      const out = [bn.runningMean.clone(), bn.runningVar.clone(), bn.numBatchesTracked.toFloat()];
      tf.dispose([bn.weight, bn.bias, bn.runningMean, bn.runningVar, bn.numBatchesTracked]);
      return out;
    };
    await expectSame('running stats', fn);
  });

  it('batchNormTrainStep on webgpu: running stats by 2 TvdBnRunningUpdate calls (no slices, no op-by-op update), no tensor leak', async () => {
    await tf.setBackend('webgpu');
    const shape: Shape = [2, 4, 5, 6];
    const d = data(shape);
    const bn = {
      weight: tf.variable(tf.tensor1d(d.w)),
      bias: tf.variable(tf.tensor1d(d.b)),
      runningMean: tf.variable(tf.zeros([6])),
      runningVar: tf.variable(tf.ones([6])),
      numBatchesTracked: tf.variable(tf.scalar(0, 'int32')),
      eps: 1e-5,
      momentum: 0.1,
    };
    const x = tf.tensor4d(d.x, shape);
    // The op-by-op update (the non-fused path's formula) on webgpu from the same batch statistics.
    const expected = tf.tidy(() => {
      const { y, stats } = batchNormTrain(x, bn.weight as tf.Tensor as tf.Tensor1D, bn.bias as tf.Tensor as tf.Tensor1D, 1e-5, 'gelu');
      const n = 2 * 4 * 5;
      const rm = tf.add(tf.mul(bn.runningMean, 1 - 0.1), tf.mul(stats.mean, 0.1));
      const rv = tf.add(tf.mul(bn.runningVar, 1 - 0.1), tf.mul(tf.mul(stats.variance, n / (n - 1)), 0.1));
      tf.dispose([y, stats.mean, stats.variance]);
      return [rm, rv];
    });
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => batchNormTrainStep(bn, x, 'gelu'));
    const names = prof.kernels.map((k) => k.name);
    tf.dispose(prof.result as tf.Tensor);
    expect(names.filter((n) => n === BN_RUNNING_UPDATE).length).toBe(2);
    expect(names).not.toContain('Unpack');
    expect(names.filter((n) => n === 'Multiply').length).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    // Same f32 operations: equal up to a possible fma contraction by the GPU compiler (<= 4 ulps).
    const got = [await bn.runningMean.data(), await bn.runningVar.data()];
    const want = [await expected[0].data(), await expected[1].data()];
    got.forEach((g, k) => g.forEach((v, i) => expect(Math.abs(v - want[k][i]), `row ${k} ch ${i}`).toBeLessThanOrEqual(4 * 2 ** (Math.floor(Math.log2(Math.abs(want[k][i]) || 1)) - 23))));
    tf.dispose(expected);
    tf.dispose([x, bn.weight, bn.bias, bn.runningMean, bn.runningVar, bn.numBatchesTracked]);
    await tf.setBackend('cpu');
  });

  it('runs the fused kernels on webgpu (one GELU kernel each way; BN stats/apply/sums/dx) and leaks no tensors', async () => {
    await tf.setBackend('webgpu');
    expect(fusedBnGeluActive()).toBe(true);
    const shape: Shape = [2, 4, 5, 6];
    const d = data(shape);
    const before = tf.memory().numTensors;
    const names: string[] = [];
    const prof = await tf.profile(() =>
      tf.tidy(() => {
        const x = tf.tensor4d(d.x, shape);
        const w = tf.tensor1d(d.w);
        const b = tf.tensor1d(d.b);
        const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
          const r = batchNormTrain(xi as tf.Tensor4D, wi as tf.Tensor1D, bi as tf.Tensor1D, 1e-5, 'none');
          tf.dispose([r.stats.mean, r.stats.variance]);
          return geluLean(r.y);
        })([x, w, b]);
        return tf.stack(g.map((t) => tf.sum(t)));
      }),
    );
    for (const k of prof.kernels) names.push(k.name);
    tf.dispose(prof.result as tf.Tensor);
    for (const k of [BN_STATS, BN_APPLY, BN_GRAD_SUMS, BN_GRAD_INPUT, GELU, GELU_GRAD]) expect(names.filter((n) => n === k).length, k).toBe(1);
    expect(names).not.toContain('Erf');
    expect(names).not.toContain('Rsqrt');
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
    expect(fusedBnGeluActive()).toBe(false);
  });
});
