// Gradients of Sum and Mean without a host-side array of ones.
// tfjs 4.22's gradients (tfjs/src/gradients/Sum_grad.ts, Mean_grad.ts) compute
// dy_expanded * ones(x.shape): `ones` fills a Float32Array of x's size on the host and every GPU
// backend then uploads it. For a loss over a [4, 128, 128, 150] logit map that is 39 MB of host
// work and upload per step, and the TinyViM-B benchmark step spent ~50 ms of its ~380 ms host time
// there (V8 profile on the H200 machine, docs/speed.md). Broadcasting dy (the Tile kernel, one
// dispatch, no upload) gives the same values: x * 1 is exact in IEEE arithmetic, and Mean divides
// the same dy values by the same count before broadcasting instead of after.
import * as tf from '@tensorflow/tfjs';

/** dy reshaped to x's rank with the reduced axes of size 1 (tfjs's expandedDyShape), as float32. */
function expandDy(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const shape = x.shape.slice();
  for (const a of axes) shape[a] = 1;
  const e = tf.reshape(dy, shape);
  return e.dtype === 'float32' ? e : tf.cast(e, 'float32');
}

let registered = false;

/**
 * Replaces the Sum and Mean gradients in tfjs's registry (global for every backend; idempotent).
 * Same values as tfjs's: Sum -> broadcast(dy), Mean -> broadcast(dy / reduceSize), float32.
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
      return { x: () => tf.broadcastTo(e, x.shape) };
    },
  });
  tf.registerGradient({
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axis = (attrs as unknown as { axis: number | number[] }).axis;
      const reduceSize = tf.util.sizeFromShape(tf.util.parseAxisParam(axis, x.shape).map((a) => x.shape[a]));
      const e = expandDy(dy as tf.Tensor, x, axis);
      return { x: () => tf.broadcastTo(tf.div(e, reduceSize), x.shape) };
    },
  });
}
