// Cross scan / cross merge (VMamba's four scan orders) as compositions of differentiable tensor ops.
// Directions: k0 row-major, k1 column-major, k2 = reversed k0, k3 = reversed k1. Merge maps every
// direction back to row-major order and sums, so crossMerge is the adjoint of crossScan.
import * as tf from '@tensorflow/tfjs';

/** x [B, H, W, C] -> the four sequences [B, 4, H*W, C] (channels last). */
export function crossScanNHWC(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const rows = tf.reshape(x, [b, h * w, c]);
    const cols = tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, h * w, c]);
    return tf.stack([rows, cols, tf.reverse(rows, 1), tf.reverse(cols, 1)], 1) as tf.Tensor4D;
  });
}

/** ys [B, 4, H*W, C] (sequences in the four scan orders) -> row-major sum [B, H*W, C]. */
export function crossMergeNHWC(ys: tf.Tensor4D, h: number, w: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, k, l, c] = ys.shape;
    if (k !== 4 || l !== h * w) throw new Error(`crossMerge: expected [B, 4, ${h * w}, C] for a ${h}x${w} grid, got [${ys.shape}]`);
    const [y0, y1, y2, y3] = tf.unstack(ys, 1) as tf.Tensor3D[];
    const rowMajor = tf.add(y0, tf.reverse(y2, 1));
    const colMajor = tf.add(y1, tf.reverse(y3, 1));
    const colBack = tf.reshape(tf.transpose(tf.reshape(colMajor, [b, w, h, c]), [0, 2, 1, 3]), [b, l, c]);
    return tf.add(rowMajor, colBack) as tf.Tensor3D;
  });
}

/** PyTorch layout, as VMamba's CrossScan: x [B, C, H, W] -> [B, 4, C, H*W]. */
export function crossScan(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(crossScanNHWC(tf.transpose(x, [0, 2, 3, 1])), [0, 1, 3, 2]) as tf.Tensor4D);
}

/** PyTorch layout, as VMamba's CrossMerge: ys [B, 4, C, H, W] -> [B, C, H*W]. */
export function crossMerge(ys: tf.Tensor5D): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, k, c, h, w] = ys.shape;
    const seq = tf.transpose(tf.reshape(ys, [b, k, c, h * w]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.transpose(crossMergeNHWC(seq, h, w), [0, 2, 1]) as tf.Tensor3D;
  });
}
