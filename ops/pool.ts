// nn.AvgPool2d(k, stride, padding=0, ceil_mode) on NHWC tensors.
// floor mode = tfjs avgPool 'valid'. ceil mode: PyTorch adds the extra window only at the bottom/right
// and divides a partial window by its in-bounds element count; tfjs 'same' would pad on both sides, so
// we pad explicitly at the end. tfjs's avg pool divides by the in-bounds count (cpu pool_utils and
// wasm's XNNPACK kernel; both checked in test/ops_resize_pool.test.ts).
import * as tf from '@tensorflow/tfjs';

/**
 * PyTorch's pooling_output_shape (pad 0, dilation 1): floor((size - k + (ceil ? s - 1 : 0)) / s) + 1,
 * and in ceil mode one less when the last window would start outside the input. So in ceil mode a
 * window larger than the input still gives one cell (the mean of the in-bounds elements).
 */
export function poolOutputSize(size: number, k: number, s: number, ceilMode: boolean): number {
  let out = Math.floor((size - k + (ceilMode ? s - 1 : 0)) / s) + 1;
  if (ceilMode && (out - 1) * s >= size) out--;
  return out;
}

/**
 * nn.AvgPool2d(kernel, stride, padding=0, ceil_mode, count_include_pad) on NHWC `x` [B, H, W, C];
 * returns [B, oh, ow, C] with oh/ow from `poolOutputSize`. Partial windows of ceil mode divide by
 * their in-bounds count (PyTorch's divisor: the window clipped to the input, padding 0).
 * Throws RangeError with PyTorch's wording when the output would be empty.
 */
export function avgPool2d(x: tf.Tensor4D, kernel: number, stride = kernel, ceilMode = false): tf.Tensor4D {
  const [, H, W, C] = x.shape;
  const oh = poolOutputSize(H, kernel, stride, ceilMode);
  const ow = poolOutputSize(W, kernel, stride, ceilMode);
  if (oh < 1 || ow < 1) {
    throw new RangeError(
      `avgPool2d: given input size (${C}x${H}x${W}), calculated output size (${C}x${oh}x${ow}): output size is too small ` +
        `(kernel ${kernel}, stride ${stride}, ceil_mode ${ceilMode ? 'True' : 'False'}, as torch.nn.AvgPool2d)`,
    );
  }
  if (!ceilMode) return tf.avgPool(x, kernel, stride, 'valid');
  const padB = Math.max(0, (oh - 1) * stride + kernel - H);
  const padR = Math.max(0, (ow - 1) * stride + kernel - W);
  if (padB === 0 && padR === 0) return tf.avgPool(x, kernel, stride, 'valid');
  return tf.avgPool(x, kernel, stride, [[0, 0], [0, padB], [0, padR], [0, 0]]);
}
