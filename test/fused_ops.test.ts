// The memory-lean ops of ops/fused_ops.ts against the composite formulas they replace: values and
// gradients (w.r.t. inputs and tf.Variables under tf.variableGrads), on cpu and wasm.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { addLean, batchNormTrain, concatLean, geluLean, layerNormLean, siluLean, subLean } from '../ops/fused_ops';
import { BatchNorm2d } from '../nn/layers';

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Gradients of sum(f(...) * probe) with respect to the variables, with a fixed random probe. */
function varGrads(f: () => tf.Tensor, vars: tf.Variable[], probe: tf.Tensor): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), probe)) as tf.Scalar, vars);
  value.dispose();
  return vars.map((v) => grads[v.name]);
}

function compare(lean: () => tf.Tensor, ref: () => tf.Tensor, vars: tf.Variable[], tol = 1e-5): void {
  tf.tidy(() => {
    const y = lean();
    const yr = ref();
    expect(y.shape).toEqual(yr.shape);
    expect(maxDiff(y, yr)).toBeLessThanOrEqual(tol);
    const probe = tf.randomNormal(y.shape, 0, 1, 'float32', 7);
    const g = varGrads(lean, vars, probe);
    const gr = varGrads(ref, vars, probe);
    g.forEach((gi, i) => {
      expect(gi, `gradient ${i}`).toBeDefined();
      expect(gi.shape).toEqual(vars[i].shape);
      const scale = Math.max(1, tf.max(tf.abs(gr[i])).dataSync()[0]);
      expect(maxDiff(gi, gr[i]) / scale, `gradient of ${vars[i].name}`).toBeLessThanOrEqual(tol * 20);
    });
  });
}

const geluRef = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
const bnRef = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.sub(x, mean), tf.mul(tf.rsqrt(tf.add(variance, eps)), w)), b);
};
const lnRef = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number) => {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
};

let n = 0;
const v = (t: tf.Tensor): tf.Variable => tf.variable(t, true, `fused_test_${n++}`);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused ops on ${backend}`, () => {
    const made: tf.Variable[] = [];
    const mk = (t: tf.Tensor) => {
      const x = v(t);
      made.push(x);
      return x;
    };
    afterAll(() => tf.dispose(made));

    it('selects the backend', async () => {
      expect(await tf.setBackend(backend)).toBe(true);
      await tf.ready();
    });

    it('GELU (exact) matches 0.5 x (1 + erf(x / sqrt 2)), value and gradient', () => {
      const x = mk(tf.mul(tf.randomNormal([2, 5, 6, 7], 0, 1, 'float32', 1), 3));
      compare(() => geluLean(x), () => geluRef(x), [x]);
    });

    it('SiLU matches x sigmoid(x)', () => {
      const x = mk(tf.mul(tf.randomNormal([3, 4, 9], 0, 1, 'float32', 2), 4));
      compare(() => siluLean(x), () => tf.mul(x, tf.sigmoid(x)), [x]);
    });

    it('training BatchNorm matches the moments composite: dx, dweight, dbias; batch stats returned', () => {
      const x = mk(tf.add(tf.mul(tf.randomNormal([2, 4, 5, 6], 0, 1, 'float32', 3), 2), 1));
      const w = mk(tf.randomUniform([6], 0.5, 1.5, 'float32', 4));
      const b = mk(tf.randomNormal([6], 0, 1, 'float32', 5));
      compare(
        () => {
          const { y, stats } = batchNormTrain(x as tf.Tensor as tf.Tensor4D, w as tf.Tensor as tf.Tensor1D, b as tf.Tensor as tf.Tensor1D, 1e-5);
          tf.dispose([stats.mean, stats.variance]);
          return y;
        },
        () => bnRef(x, w, b, 1e-5),
        [x, w, b],
      );
      tf.tidy(() => {
        const { y, stats } = batchNormTrain(x as tf.Tensor as tf.Tensor4D, w as tf.Tensor as tf.Tensor1D, b as tf.Tensor as tf.Tensor1D, 1e-5);
        const ref = tf.moments(x, [0, 1, 2]);
        expect(maxDiff(stats.mean, ref.mean)).toBeLessThan(1e-6);
        expect(maxDiff(stats.variance, ref.variance)).toBeLessThan(1e-6);
        tf.dispose([y, stats.mean, stats.variance]);
      });
    });

    it('BatchNorm2d in training mode updates running stats with the unbiased variance and leaks nothing', () => {
      const bn = new BatchNorm2d(3);
      bn.train();
      const x = tf.randomNormal([2, 3, 3, 3], 1, 2, 'float32', 6) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      tf.dispose(bn.forward(x));
      expect(tf.memory().numTensors).toBe(before);
      tf.tidy(() => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        expect(maxDiff(bn.runningMean, tf.mul(mean, 0.1))).toBeLessThan(1e-6);
        expect(maxDiff(bn.runningVar, tf.add(0.9, tf.mul(variance, (0.1 * 18) / 17)))).toBeLessThan(1e-5);
      });
      x.dispose();
    });

    it('LayerNorm (last axis) matches the moments composite', () => {
      const x = mk(tf.mul(tf.randomNormal([3, 7, 8], 0, 1, 'float32', 8), 2));
      const w = mk(tf.randomUniform([8], 0.5, 1.5, 'float32', 9));
      const b = mk(tf.randomNormal([8], 0, 1, 'float32', 10));
      compare(() => layerNormLean(x, w as tf.Tensor as tf.Tensor1D, b as tf.Tensor as tf.Tensor1D, 1e-5), () => lnRef(x, w, b, 1e-5), [x, w, b]);
    });

    it('add / sub with a broadcast operand, and concat, match tf.add / tf.sub / tf.concat', () => {
      const a = mk(tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 11));
      const a2 = mk(tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 12));
      const c = mk(tf.randomNormal([5], 0, 1, 'float32', 13));
      const d = mk(tf.randomNormal([2, 3, 4, 2], 0, 1, 'float32', 14));
      compare(() => addLean(a, c), () => tf.add(a, c), [a, c]);
      compare(() => subLean(a, a2), () => tf.sub(a, a2), [a, a2]);
      // The same tensor on both sides: the tape must not dispose a gradient it hands to both inputs.
      compare(() => addLean(addLean(a, a), a), () => tf.add(tf.add(a, a), a), [a]);
      compare(() => concatLean([a, d, a], 3), () => tf.concat([a, d, a], 3), [a, d]);
    });

    it('saves less on the tape than the composite (GELU + BatchNorm forward + backward peak)', async () => {
      const x = mk(tf.randomNormal([2, 16, 16, 32], 0, 1, 'float32', 15));
      const w = mk(tf.ones([32]));
      const b = mk(tf.zeros([32]));
      const peak = async (f: () => tf.Tensor) =>
        (
          await tf.profile(() => {
            const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, [x, w, b]);
            tf.dispose([value, Object.values(grads)]);
          })
        ).peakBytes;
      const lean = await peak(() => {
        const { y, stats } = batchNormTrain(x as tf.Tensor as tf.Tensor4D, w as tf.Tensor as tf.Tensor1D, b as tf.Tensor as tf.Tensor1D, 1e-5);
        tf.dispose([stats.mean, stats.variance]);
        return geluLean(y);
      });
      const composite = await peak(() => geluRef(bnRef(x, w, b, 1e-5)));
      expect(lean).toBeLessThan(composite * 0.6);
    });
  });
}
