// Gradients of Sum and Mean without a host-side array of ones.
// tfjs 4.22's gradients (tfjs/src/gradients/Sum_grad.ts, Mean_grad.ts) compute
// dy_expanded * ones(x.shape): `ones` fills a Float32Array of x's size on the host and every GPU
// backend then uploads it. For a loss over a [4, 128, 128, 150] logit map that is 39 MB of host
// work and upload per step, and the TinyViM-B benchmark step spent ~50 ms of its ~380 ms host time
// there (V8 profile on the H200 machine, docs/speed.md). Here the ones come from tf.fill(x.shape, 1), a Fill
// kernel that runs where x lives (on the GPU: one dispatch, no upload), and the product is tfjs's
// own, so the values are identical; Mean divides the few dy values by the count before the multiply
// instead of after (the same per-element quotient, since x * 1 is exact). Not tf.broadcastTo: its
// Tile kernel runs on the host in tfjs-backend-webgpu when its input is a small host tensor (the
// scalar seed dy of every gradient is one), which made a 2x800x1344 backbone step 4x slower.
import * as tf from '@tensorflow/tfjs';

/** dy reshaped to x's rank with the reduced axes of size 1 (tfjs's expandedDyShape), as float32. */
function expandDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  const e = tf.reshape(dy, shape);
  return e.dtype === 'float32' ? e : tf.cast(e, 'float32');
}

/** `e` broadcast to x's shape as tfjs's gradients do (e * ones), with the ones made by a Fill kernel. */
const timesOnes = (e: tf.Tensor, x: tf.Tensor): tf.Tensor => tf.mul(e, tf.fill(x.shape, 1, 'float32'));

let registered = false;

/**
 * Replaces the Sum and Mean gradients in tfjs's registry (global for every backend; idempotent).
 * Same values as tfjs's: Sum -> dy * fill(x.shape, 1), Mean -> (dy / reduceSize) * fill(x.shape, 1), float32.
 */
export function registerReduceGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const e = expandDy(dy as tf.Tensor, x, (attrs as unknown as { axis: number | number[] }).axis);
      return { x: () => timesOnes(e, x) };
    },
  });
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const e = expandDy(dy as tf.Tensor, x, (attrs as unknown as { axis: number | number[] }).axis);
      // e has x's shape with the reduced axes of size 1: the reduced element count is their ratio.
      return { x: () => timesOnes(tf.div(e, x.size / e.size), x) };
    },
  });
}
