// Resampling of the low-frequency path with PyTorch's exact semantics, differentiable on every backend.
//
// Why not tf.image.resizeBilinear: its gradient on the tfjs cpu backend (4.22) returns a tensor with
// height and width swapped for non-square inputs, and wasm has no gradient kernel for it. Bilinear
// resampling is separable, so two small interpolation-matrix products give the same values (PyTorch
// align_corners=False: src = (dst + 0.5) * in/out - 0.5, clamped at 0) with gradients from matMul.
import * as tf from '@tensorflow/tfjs';

/** Interpolation matrix [out, in] of 1-D linear resampling, PyTorch align_corners=False. */
export function linearResampleMatrix(inSize: number, outSize: number): tf.Tensor2D {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(scale * (o + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
    const l1 = src - i0;
    m[o * inSize + i0] += 1 - l1;
    m[o * inSize + i1] += l1;
  }
  return tf.tensor2d(m, [outSize, inSize]);
}

/** Bilinear resize of NHWC x to [outH, outW] (F.interpolate mode='bilinear', align_corners=False). */
export function resizeBilinearTorch(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    // Along H: [h, B*w*C] -> [H, B*w*C].
    const xh = tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c]);
    const yh = tf.reshape(tf.matMul(linearResampleMatrix(h, outH), xh as tf.Tensor2D), [outH, b, w, c]);
    // Along W: [w, B*H*C] -> [W, B*H*C].
    const xw = tf.reshape(tf.transpose(yh, [2, 1, 0, 3]), [w, b * outH * c]);
    const yw = tf.reshape(tf.matMul(linearResampleMatrix(w, outW), xw as tf.Tensor2D), [outW, b, outH, c]);
    return tf.transpose(yw, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** Nearest upsampling by an integer factor (PyTorch 'nearest' with out = in * s); rank-4 tiles only (tile's gradient stops at rank 4). */
export function upsampleNearest(x: tf.Tensor4D, s: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const rows = tf.reshape(tf.tile(tf.reshape(x, [b * h, 1, w, c]), [1, s, 1, 1]), [b * h * s, w, 1, c]);
    return tf.reshape(tf.tile(rows, [1, 1, s, 1]), [b, h * s, w * s, c]) as tf.Tensor4D;
  });
}
