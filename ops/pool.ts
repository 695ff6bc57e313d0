// nn.AvgPool2d(k, stride, padding=0, ceil_mode) on NHWC tensors.
// floor mode = tfjs avgPool 'valid'. ceil mode: PyTorch adds the extra window only at the bottom/right
// and divides a partial window by its in-bounds element count; tfjs 'same' would pad on both sides, so
// we pad explicitly at the end. tfjs's avg pool divides by the in-bounds count (cpu pool_utils and
// wasm's XNNPACK kernel; both checked in test/ops_resize_pool.test.ts).
import * as tf from '@tensorflow/tfjs';

function ceilOut(size: number, k: number, s: number): number {
  let out = Math.ceil((size - k) / s) + 1;
  // PyTorch: the last window must start inside the input.
  if ((out - 1) * s >= size) out--;
  return out;
}

export function avgPool2d(x: tf.Tensor4D, kernel: number, stride = kernel, ceilMode = false): tf.Tensor4D {
  const [, H, W] = x.shape;
  if (H < kernel || W < kernel) {
    throw new RangeError(`avgPool2d: input ${H}x${W} is smaller than the ${kernel}x${kernel} window (output size is too small)`);
  }
  if (!ceilMode) return tf.avgPool(x, kernel, stride, 'valid');
  const oh = ceilOut(H, kernel, stride);
  const ow = ceilOut(W, kernel, stride);
  const padB = Math.max(0, (oh - 1) * stride + kernel - H);
  const padR = Math.max(0, (ow - 1) * stride + kernel - W);
  if (padB === 0 && padR === 0) return tf.avgPool(x, kernel, stride, 'valid');
  return tf.avgPool(x, kernel, stride, [[0, 0], [0, padB], [0, padR], [0, 0]]);
}
