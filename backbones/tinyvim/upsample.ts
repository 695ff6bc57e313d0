// Nearest upsampling of the low-frequency path with PyTorch's semantics, differentiable on every
// backend. (The bilinear resize of that path is ops/resize's resizeBilinear.)
import * as tf from '@tensorflow/tfjs';

/** Nearest upsampling by an integer factor (PyTorch 'nearest' with out = in * s); rank-4 tiles only (tile's gradient stops at rank 4). */
export function upsampleNearest(x: tf.Tensor4D, s: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const rows = tf.reshape(tf.tile(tf.reshape(x, [b * h, 1, w, c]), [1, s, 1, 1]), [b * h * s, w, 1, c]);
    return tf.reshape(tf.tile(rows, [1, 1, s, 1]), [b, h * s, w * s, c]) as tf.Tensor4D;
  });
}
