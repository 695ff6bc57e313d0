// mmseg's `resize` (F.interpolate, mode 'bilinear') in NHWC, with a correct gradient.
//
// tfjs's resizeBilinear forward with halfPixelCenters matches PyTorch's align_corners=False, but its
// gradient kernel (ResizeBilinearGrad, cpu and wasm, tfjs 4.22) ignores halfPixelCenters and uses the
// legacy sampling grid, so training through it is wrong (and the cpu kernel also swaps H and W of
// the result). Here the resize is written as two separable gathers with per-row weights; tfjs then
// differentiates it correctly (gather's gradient is a segment sum).
//   align_corners=False: src = max((dst + 0.5) * in / out - 0.5, 0)  (PyTorch; scale in float32)
//   align_corners=True:  src = dst * (in - 1) / (out - 1)
//   i0 = floor(src), i1 = min(i0 + 1, in - 1), w1 = src - i0.
import * as tf from '@tensorflow/tfjs';

const f32 = Math.fround;

interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

export function bilinearAxisWeights(inSize: number, outSize: number, alignCorners: boolean): AxisWeights {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = alignCorners ? (outSize > 1 ? f32((inSize - 1) / (outSize - 1)) : 0) : f32(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    const src = alignCorners ? f32(d * scale) : Math.max(f32(f32(f32(d + 0.5) * scale) - 0.5), 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = f32(src - lo);
  }
  return { i0, i1, w1 };
}

function resizeAxis(x: tf.Tensor4D, outSize: number, axis: 1 | 2, alignCorners: boolean): tf.Tensor4D {
  const { i0, i1, w1 } = bilinearAxisWeights(x.shape[axis], outSize, alignCorners);
  const wShape = axis === 1 ? [1, outSize, 1, 1] : [1, 1, outSize, 1];
  const b = tf.reshape(tf.tensor1d(w1), wShape);
  const a = tf.sub(1, b);
  const lo = tf.gather(x, tf.tensor1d(i0, 'int32'), axis);
  const hi = tf.gather(x, tf.tensor1d(i1, 'int32'), axis);
  return tf.add(tf.mul(lo, a), tf.mul(hi, b)) as tf.Tensor4D;
}

export function resizeBilinear(x: tf.Tensor4D, size: [number, number], alignCorners = false): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === size[0] && w === size[1]) return x;
  return tf.tidy(() => {
    const y = h === size[0] ? x : resizeAxis(x, size[0], 1, alignCorners);
    return w === size[1] ? y : resizeAxis(y, size[1], 2, alignCorners);
  });
}

function resizeAxisTranspose(dy: tf.Tensor4D, inSize: number, axis: 1 | 2, alignCorners: boolean): tf.Tensor4D {
  const outSize = dy.shape[axis];
  const { i0, i1, w1 } = bilinearAxisWeights(inSize, outSize, alignCorners);
  const perm = axis === 1 ? [1, 0, 2, 3] : [2, 0, 1, 3];
  const back = axis === 1 ? [1, 0, 2, 3] : [1, 2, 0, 3];
  const d = tf.transpose(dy, perm);
  const b = tf.reshape(tf.tensor1d(w1), [outSize, 1, 1, 1]);
  const a = tf.sub(1, b);
  const s = tf.add(tf.unsortedSegmentSum(tf.mul(d, a), tf.tensor1d(i0, 'int32'), inSize), tf.unsortedSegmentSum(tf.mul(d, b), tf.tensor1d(i1, 'int32'), inSize));
  return tf.transpose(s, back) as tf.Tensor4D;
}

/**
 * The vector-Jacobian product of resizeBilinear: the gradient w.r.t. an input of spatial size
 * `inSize` given the gradient `dy` of the resized output (for hand-written backward passes).
 */
export function resizeBilinearBackward(dy: tf.Tensor4D, inSize: [number, number], alignCorners = false): tf.Tensor4D {
  const [, oh, ow] = dy.shape;
  return tf.tidy(() => {
    const g = ow === inSize[1] ? dy : resizeAxisTranspose(dy, inSize[1], 2, alignCorners);
    return oh === inSize[0] ? g : resizeAxisTranspose(g, inSize[0], 1, alignCorners);
  });
}
