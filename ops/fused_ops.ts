// Memory-lean differentiable ops. A composite written with tfjs primitives keeps, on the gradient tape,
// every intermediate its kernels ask to save (Mul saves both operands, Add/Sub/Slice/Concat save their
// inputs only for the shapes) and later one gradient per intermediate. Each op here is one tape node
// (tf.customGrad) that saves what PyTorch's autograd saves for the same op, with a closed-form backward.
// Forward values use the same primitive sequence as the composites they replace, so outputs are
// bit-identical; gradients agree to float rounding.
import * as tf from '@tensorflow/tfjs';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_SUMS, BN_RUNNING_UPDATE, BN_STATS, GELU, GELU_GRAD, fusedBnGeluActive } from './webgpu/bn_gelu_webgpu';

type Grads = tf.Tensor | tf.Tensor[];
type Save = tf.GradSaveFunc;

type Forward = (inputs: tf.Tensor[], save: Save) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Grads };

/**
 * tf.customGrad with the inputs as an array (typed) and the save function second. The backward runs
 * in a tidy: tfjs calls a custom gradFunc outside any per-node scope, so its temporaries would
 * otherwise live until the whole backward pass ends.
 */
function customOp(f: Forward): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | Save)[]) => {
    const { value, gradFunc } = f(args.slice(0, -1) as tf.Tensor[], args[args.length - 1] as Save);
    return { value, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => gradFunc(dy, saved)) };
  });
  return (...inputs) => op(...inputs);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Sums `g` (shaped like the broadcast result) down to `shape` (numpy broadcasting, right-aligned).
 * Always a new tensor object (a clone shares the data): the tape accumulates and disposes gradients
 * per input, so one dy object handed to two inputs would be disposed under the other.
 */
export function sumToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return tf.clone(g);
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? tf.sum(g, axes) : g;
  return tf.reshape(s, shape);
}

// ---------------------------------------------------------------- activations

const geluValue = (x: tf.Tensor): tf.Tensor => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
const geluDeriv = (x: tf.Tensor): tf.Tensor =>
  tf.add(tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5), tf.mul(x, tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI)));

const geluOp = customOp(([x], save) => {
  save([x]);
  return {
    value: geluValue(x),
    // d/dx x*Phi(x) = Phi(x) + x*phi(x)
    gradFunc: (dy, [xs]): Grads => tf.mul(dy, geluDeriv(xs)),
  };
});

// On webgpu with our kernels registered: one dispatch forward, one backward (ops/webgpu/bn_gelu_webgpu.ts).
const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): tf.Tensor =>
  tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor;

const geluFusedOp = customOp(([x], save) => {
  save([x]);
  return { value: run(GELU, { x }), gradFunc: (dy, [xs]): Grads => run(GELU_GRAD, { dy, x: xs }) };
});

/** Exact (erf) GELU; saves only x for backward. Float32 on webgpu: one fused kernel each way. */
export function geluLean<T extends tf.Tensor>(x: T): T {
  if (x.dtype === 'float32' && fusedBnGeluActive()) return geluFusedOp(x) as T;
  return geluOp(x) as T;
}

const siluOp = customOp(([x], save) => {
  save([x]);
  return {
    value: tf.mul(x, tf.sigmoid(x)),
    gradFunc: (dy, [xs]): Grads => {
      const s = tf.sigmoid(xs);
      // s * (1 + x * (1 - s))
      return tf.mul(dy, tf.mul(s, tf.add(tf.mul(xs, tf.sub(1, s)), 1)));
    },
  };
});

/** SiLU x * sigmoid(x); saves only x for backward. */
export function siluLean<T extends tf.Tensor>(x: T): T {
  return siluOp(x) as T;
}

// ---------------------------------------------------------------- normalisation

/** Batch statistics of a training-mode batch norm, for the running-stat update (caller disposes). */
export interface BatchStats {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * BatchNorm2d in training mode over NHWC x (channels last), optionally followed by exact GELU:
 * y = act((x - mean) * rsqrt(var + eps) * weight + bias) with biased batch variance. Saves x, mean and
 * invstd (as PyTorch's BN); with GELU the normalised tensor is recomputed in backward instead of kept,
 * which drops one full-size tensor and its gradient per call. Returns y and the batch statistics
 * (kept tensors; the caller disposes them after updating running stats).
 */
export function batchNormTrain(
  x: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
  act: 'none' | 'gelu' = 'none',
): { y: tf.Tensor4D; stats: BatchStats } {
  if (x.dtype === 'float32' && fusedBnGeluActive()) return batchNormTrainFused(x, weight, bias, eps, act);
  let stats: BatchStats | null = null;
  const op = customOp(([xi, w, b], save) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    const invstd = tf.rsqrt(tf.add(variance, eps));
    stats = { mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D };
    save([xi, mean, invstd, w, b]);
    const bnOut = tf.add(tf.mul(tf.sub(xi, mean), tf.mul(invstd, w)), b);
    return {
      value: act === 'gelu' ? geluValue(bnOut) : bnOut,
      gradFunc: (dyIn, [xs, m, inv, ws, bs]): Grads => {
        const n = xs.size / ws.size;
        const xhat = tf.mul(tf.sub(xs, m), inv);
        const dy = act === 'gelu' ? tf.mul(dyIn, geluDeriv(tf.add(tf.mul(xhat, ws), bs))) : dyIn;
        const dbias = tf.sum(dy, [0, 1, 2]);
        const dweight = tf.sum(tf.mul(dy, xhat), [0, 1, 2]);
        // dx = w * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
        const centred = tf.sub(tf.sub(dy, tf.div(dbias, n)), tf.mul(xhat, tf.div(dweight, n)));
        return [tf.mul(centred, tf.mul(inv, ws)), dweight, dbias];
      },
    };
  });
  const y = op(x, weight, bias) as tf.Tensor4D;
  return { y, stats: stats! };
}

/**
 * batchNormTrain on webgpu with the fused kernels: stats (2 dispatches: Welford partials + combine),
 * normalise + affine (+ GELU) in 1; backward: per-channel sums of dy' and dy' * xhat (2) and dx (1),
 * plus the slices that split [2, C] results into the [C] tensors callers and the tape need.
 * Same saved tensors as the composite (x, the statistics, weight, bias); same math to float rounding.
 */
function batchNormTrainFused(
  x: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
  act: 'none' | 'gelu',
): { y: tf.Tensor4D; stats: BatchStats } {
  const { y, packed } = batchNormTrainPacked(x, weight, bias, eps, act);
  const [mean, variance] = tf.unstack(packed) as tf.Tensor1D[];
  packed.dispose();
  return { y, stats: { mean, variance } };
}

/** The fused forward with the statistics as one kept [2, C] tensor (rows mean, biased variance; caller disposes). */
function batchNormTrainPacked(
  x: tf.Tensor4D,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps: number,
  act: 'none' | 'gelu',
): { y: tf.Tensor4D; packed: tf.Tensor2D } {
  let packed: tf.Tensor2D | null = null;
  const attrs = { eps, act };
  const op = customOp(([xi, w, b], save) => {
    const st = run(BN_STATS, { x: xi }) as tf.Tensor2D;
    packed = tf.keep(st);
    save([xi, st, w, b]);
    return {
      value: run(BN_APPLY, { x: xi, stats: st, weight: w, bias: b }, attrs),
      gradFunc: (dy, [xs, sts, ws, bs]): Grads => {
        const sums = run(BN_GRAD_SUMS, { dy, x: xs, stats: sts, weight: ws, bias: bs }, attrs);
        const dx = run(BN_GRAD_INPUT, { dy, x: xs, stats: sts, weight: ws, bias: bs, sums }, attrs);
        const [dbias, dweight] = tf.unstack(sums);
        return [dx, dweight, dbias];
      },
    };
  });
  const y = op(x, weight, bias) as tf.Tensor4D;
  return { y, packed: packed! };
}

/** The state of a BatchNorm2d that a training-mode forward reads and updates. */
export interface BatchNormState {
  weight: tf.Variable;
  bias: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
  numBatchesTracked: tf.Variable;
  eps: number;
  momentum: number;
}

/**
 * Training-mode BatchNorm2d (optionally + GELU) with PyTorch's running-stat update (momentum rule,
 * unbiased variance for the running value). BatchNorm2d.forward and fused callers share this.
 */
export function batchNormTrainStep(bn: BatchNormState, x: tf.Tensor4D, act: 'none' | 'gelu' = 'none'): tf.Tensor4D {
  if (x.dtype === 'float32' && fusedBnGeluActive()) return batchNormTrainStepFused(bn, x, act);
  const { y, stats } = batchNormTrain(x, bn.weight as tf.Tensor as tf.Tensor1D, bn.bias as tf.Tensor as tf.Tensor1D, bn.eps, act);
  const n = x.size / x.shape[3];
  // Running stats are state: these ops do not lead to the output, so backprop never visits them.
  tf.tidy(() => {
    const m = bn.momentum;
    const unbiased = tf.mul(stats.variance, n / Math.max(n - 1, 1));
    bn.runningMean.assign(tf.add(tf.mul(bn.runningMean, 1 - m), tf.mul(stats.mean, m)));
    bn.runningVar.assign(tf.add(tf.mul(bn.runningVar, 1 - m), tf.mul(unbiased, m)));
    bn.numBatchesTracked.assign(tf.add(bn.numBatchesTracked, tf.scalar(1, 'int32')));
  });
  tf.dispose([stats.mean, stats.variance]);
  return y;
}

/**
 * batchNormTrainStep on webgpu with the fused kernels: the running mean and variance are each one
 * TvdBnRunningUpdate dispatch reading the [2, C] statistics (same momentum rule and unbiased factor,
 * same f32 operations as the op path above), instead of 2 slices + 8 element-wise ops.
 */
function batchNormTrainStepFused(bn: BatchNormState, x: tf.Tensor4D, act: 'none' | 'gelu'): tf.Tensor4D {
  const { y, packed } = batchNormTrainPacked(x, bn.weight as tf.Tensor as tf.Tensor1D, bn.bias as tf.Tensor as tf.Tensor1D, bn.eps, act);
  const n = x.size / x.shape[3];
  tf.tidy(() => {
    const m = bn.momentum;
    const upd = (v: tf.Variable, row: number, scale: number) =>
      run(BN_RUNNING_UPDATE, { running: v, stats: packed }, { row, keep: 1 - m, take: m, scale });
    bn.runningMean.assign(upd(bn.runningMean, 0, 1));
    bn.runningVar.assign(upd(bn.runningVar, 1, n / Math.max(n - 1, 1)));
    bn.numBatchesTracked.assign(tf.add(bn.numBatchesTracked, tf.scalar(1, 'int32')));
  });
  packed.dispose();
  return y;
}

/** LayerNorm over the last axis with affine weight/bias [C]; saves x, mean and invstd (as PyTorch). */
export function layerNormLean<T extends tf.Tensor>(x: T, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number): T {
  const op = customOp(([xi, w, b], save) => {
    const { mean, variance } = tf.moments(xi, -1, true);
    const invstd = tf.rsqrt(tf.add(variance, eps));
    save([xi, mean, invstd, w]);
    return {
      value: tf.add(tf.mul(tf.mul(tf.sub(xi, mean), invstd), w), b),
      gradFunc: (dy, [xs, m, inv, ws]): Grads => {
        const lead = xs.shape.slice(0, -1).map((_, i) => i);
        const xhat = tf.mul(tf.sub(xs, m), inv);
        const dxhat = tf.mul(dy, ws);
        const a = tf.mean(dxhat, -1, true);
        const c = tf.mean(tf.mul(dxhat, xhat), -1, true);
        const dx = tf.mul(tf.sub(tf.sub(dxhat, a), tf.mul(xhat, c)), inv);
        return [dx, tf.sum(tf.mul(dy, xhat), lead), tf.sum(dy, lead)];
      },
    };
  });
  return op(x, weight, bias) as T;
}

// ---------------------------------------------------------------- shape-only ops that save nothing

/** a + b (b may broadcast into a's shape, e.g. a bias); saves nothing (tf.add keeps both inputs). */
export function addLean<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  const sa = a.shape;
  const sb = b.shape;
  const op = customOp(([x, y]) => ({
    value: tf.add(x, y),
    gradFunc: (dy: tf.Tensor): Grads => [sumToShape(dy, sa), sumToShape(dy, sb)],
  }));
  return op(a, b) as T;
}

/** a - b (b may broadcast into a's shape); saves nothing. */
export function subLean<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  const sa = a.shape;
  const sb = b.shape;
  const op = customOp(([x, y]) => ({
    value: tf.sub(x, y),
    gradFunc: (dy: tf.Tensor): Grads => [sumToShape(dy, sa), tf.neg(sumToShape(dy, sb))],
  }));
  return op(a, b) as T;
}

/** tf.concat along `axis`; saves nothing (tf.concat keeps every input). */
export function concatLean<T extends tf.Tensor>(xs: T[], axis: number): T {
  if (xs.length === 1) return xs[0].clone() as T;
  const ax = axis < 0 ? xs[0].rank + axis : axis;
  const sizes = xs.map((t) => t.shape[ax]);
  const op = customOp((ts) => ({ value: tf.concat(ts, ax), gradFunc: (dy: tf.Tensor): Grads => tf.split(dy, sizes, ax) }));
  return op(...xs) as T;
}
