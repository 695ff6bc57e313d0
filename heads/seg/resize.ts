// mmseg's `resize` (F.interpolate) in NHWC. align_corners=False bilinear is TF's half-pixel-centres
// rule: src = (dst + 0.5) * in / out - 0.5, clamped at the border, which is PyTorch's formula too.
import * as tf from '@tensorflow/tfjs';

export function resizeBilinear(x: tf.Tensor4D, size: [number, number], alignCorners = false): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === size[0] && w === size[1]) return x;
  return tf.image.resizeBilinear(x, size, alignCorners, !alignCorners);
}
