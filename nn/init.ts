// Seeded parameter initialisation, independent of the backend: values are drawn in JS from one
// generator, so `--seed` gives the same initial weights on cpu, wasm and webgpu.
import * as tf from '@tensorflow/tfjs';

let state = 0x9e3779b9;

/** Reseeds the initialisation stream (the runner calls this with the experiment seed). */
export function setInitSeed(seed: number): void {
  state = (seed ^ 0x9e3779b9) >>> 0;
}

/**
 * The stream's current position, without advancing it: a seed for other deterministic streams
 * (e.g. dropout masks) that follows the experiment seed and the build order.
 */
export function peekInitState(): number {
  return state;
}

/** mulberry32: small, fast, good enough for weight init. */
function next(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function uniform(shape: number[], lo: number, hi: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * next();
  return tf.tensor(data, shape);
}

export function normal(shape: number[], mean = 0, std = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // Box-Muller; 1 - next() avoids log(0).
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const th = 2 * Math.PI * next();
    data[i] = mean + std * r * Math.cos(th);
    if (i + 1 < n) data[i + 1] = mean + std * r * Math.sin(th);
  }
  return tf.tensor(data, shape);
}

/** Truncated normal in [mean-2std, mean+2std] by rejection, as timm's trunc_normal_ (a=-2std, b=2std). */
export function truncNormal(shape: number[], std: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v: number;
    do {
      v = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    } while (v < -2 || v > 2);
    data[i] = v * std;
  }
  return tf.tensor(data, shape);
}

/** PyTorch's default Conv/Linear init: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function torchDefault(shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(Math.max(fanIn, 1));
  return uniform(shape, -bound, bound);
}

/** Xavier/Glorot uniform (mmcv xavier_init, distribution 'uniform'). */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number, gain = 1): tf.Tensor {
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -bound, bound);
}

/** Kaiming normal, fan_out mode, ReLU gain (mmcv kaiming_init defaults used by mask heads). */
export function kaimingNormalFanOut(shape: number[], fanOut: number): tf.Tensor {
  return normal(shape, 0, Math.sqrt(2 / fanOut));
}
