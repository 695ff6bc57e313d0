// PyTorch F.interpolate on NHWC tensors: the project's one bilinear resize (mmseg's `resize`,
// the FPN head, the segmentation loss, TinyViM's low-frequency path) and 'nearest'.
//
// bilinear: separable, as two small interpolation-matrix products [out, in] x [in, ...] per axis,
// with PyTorch's source positions (scale in float32):
//   align_corners=False: src = max((dst + 0.5) * in / out - 0.5, 0)
//   align_corners=True:  src = dst * (in - 1) / (out - 1)
//   i0 = floor(src), i1 = min(i0 + 1, in - 1), w1 = src - i0.
// Why not tf.image.resizeBilinear: its forward with halfPixelCenters matches PyTorch, but its gradient
// kernel (ResizeBilinearGrad, cpu and wasm, tfjs 4.22) ignores halfPixelCenters (and the cpu kernel
// swaps H and W for non-square inputs), so training through it is wrong. matMul's gradient is right
// on every backend, and resizeBilinearBackward gives the same vector-Jacobian product for
// hand-written backward passes.
// nearest: PyTorch's src = floor(dst * scale) with scale = float32(in/out), an index rule that can differ
// from tfjs's float64 one near whole numbers (e.g. 2 -> 82 at dst 41: PyTorch 0, tfjs 1). We compute PyTorch's indices and use tfjs's
// resizeNearestNeighbor when they agree (always for integer up-scales, the FPN case), else an explicit
// gather with a scatter-add gradient.
import * as tf from '@tensorflow/tfjs';

const f = Math.fround;

interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

/** Per output position along one axis: lower/upper source index and the upper weight (PyTorch's rule above). */
export function bilinearAxisWeights(inSize: number, outSize: number, alignCorners: boolean): AxisWeights {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float32Array(outSize);
  const scale = alignCorners ? (outSize > 1 ? f((inSize - 1) / (outSize - 1)) : 0) : f(inSize / outSize);
  for (let d = 0; d < outSize; d++) {
    const src = alignCorners ? f(d * scale) : Math.max(f(f(f(d + 0.5) * scale) - 0.5), 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = f(src - lo);
  }
  return { i0, i1, w1 };
}

export type InterpMode = 'bilinear' | 'nearest';

/** Interpolation matrix [out, in] of 1-D linear resampling along one axis (bilinearAxisWeights). */
function resampleMatrix(inSize: number, outSize: number, alignCorners: boolean): tf.Tensor2D {
  const { i0, i1, w1 } = bilinearAxisWeights(inSize, outSize, alignCorners);
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    m[o * inSize + i0[o]] += 1 - w1[o];
    m[o * inSize + i1[o]] += w1[o];
  }
  return tf.tensor2d(m, [outSize, inSize]);
}

/** `m` [out, in] applied along `axis` (1 = H, 2 = W) of NHWC `x`: [B, in, W, C] -> [B, out, W, C] (or along W). */
function applyAlong(x: tf.Tensor4D, m: tf.Tensor2D, axis: 1 | 2): tf.Tensor4D {
  const perm = axis === 1 ? [1, 0, 2, 3] : [2, 0, 1, 3];
  const back = axis === 1 ? [1, 0, 2, 3] : [1, 2, 0, 3];
  const t = tf.transpose(x, perm);
  const [n, a, b, c] = t.shape;
  const y = tf.reshape(tf.matMul(m, tf.reshape(t, [n, a * b * c]) as tf.Tensor2D), [m.shape[0], a, b, c]);
  return tf.transpose(y, back) as tf.Tensor4D;
}

/**
 * F.interpolate(x, size, mode='bilinear', align_corners) on NHWC `x` [B, H, W, C] -> [B, size[0],
 * size[1], C]. Differentiable on every backend; returns `x` itself when the size is unchanged.
 */
export function resizeBilinear(x: tf.Tensor4D, size: [number, number], alignCorners = false): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h === size[0] && w === size[1]) return x;
  return tf.tidy(() => {
    const y = h === size[0] ? x : applyAlong(x, resampleMatrix(h, size[0], alignCorners), 1);
    return w === size[1] ? y : applyAlong(y, resampleMatrix(w, size[1], alignCorners), 2);
  });
}

/**
 * The vector-Jacobian product of resizeBilinear: the gradient w.r.t. an input of spatial size
 * `inSize` given the gradient `dy` [B, outH, outW, C] of the resized output (for hand-written
 * backward passes).
 */
export function resizeBilinearBackward(dy: tf.Tensor4D, inSize: [number, number], alignCorners = false): tf.Tensor4D {
  const [, oh, ow] = dy.shape;
  return tf.tidy(() => {
    const g = ow === inSize[1] ? dy : applyAlong(dy, tf.transpose(resampleMatrix(inSize[1], ow, alignCorners)) as tf.Tensor2D, 2);
    return oh === inSize[0] ? g : applyAlong(g, tf.transpose(resampleMatrix(inSize[0], oh, alignCorners)) as tf.Tensor2D, 1);
  });
}

/** PyTorch 'nearest' source index of each output position, `scale` = in/out (or 1/scale_factor). */
export function torchNearestIndices(inSize: number, outSize: number, scale = f(inSize / outSize)): Int32Array {
  const s = f(scale);
  if (outSize === inSize) return Int32Array.from({ length: outSize }, (_, d) => d);
  if (outSize === 2 * inSize) return Int32Array.from({ length: outSize }, (_, d) => d >> 1);
  return Int32Array.from({ length: outSize }, (_, d) => Math.min(Math.floor(f(d * s)), inSize - 1));
}

/** tfjs resizeNearestNeighbor (alignCorners false, halfPixelCenters false) source indices. */
function tfjsNearestIndices(inSize: number, outSize: number): Int32Array {
  const r = inSize / outSize;
  return Int32Array.from({ length: outSize }, (_, d) => Math.min(inSize - 1, Math.floor(r * d)));
}

function sameIndices(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** x gathered along `axis` (1 or 2 of NHWC) with a gradient that works on wasm (no UnsortedSegmentSum there). */
function gatherAxis(x: tf.Tensor4D, idx: Int32Array, axis: 1 | 2): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const t = args[0] as tf.Tensor4D;
    const value = tf.gather(t, tf.tensor1d(idx, 'int32'), axis) as tf.Tensor4D;
    const gradFunc = (dy: tf.Tensor) =>
      tf.tidy(() => {
        // Move `axis` first, scatter-add rows back to their sources, move it back.
        const perm = axis === 1 ? [1, 0, 2, 3] : [2, 0, 1, 3];
        const back = axis === 1 ? [1, 0, 2, 3] : [1, 2, 0, 3];
        const d = tf.transpose(dy, perm);
        const shape = [...d.shape];
        shape[0] = t.shape[axis];
        const s = tf.scatterND(tf.tensor2d(idx, [idx.length, 1], 'int32'), d, shape);
        return tf.transpose(s, back);
      });
    return { value, gradFunc };
  });
  return op(x) as tf.Tensor4D;
}

/**
 * F.interpolate(x, size=[outH, outW], mode, align_corners=False) on NHWC `x`. Differentiable.
 * `scaleFactor` instead of `size`: output floor(in * s); only factors with whole-number outputs are
 * accepted, since PyTorch then samples with 1/s, which equals in/out only in that case.
 */
export function interpolate(x: tf.Tensor4D, opts: { size?: [number, number]; scaleFactor?: number }, mode: InterpMode = 'nearest'): tf.Tensor4D {
  const [, H, W] = x.shape;
  let size: [number, number];
  if (opts.size) size = opts.size;
  else if (opts.scaleFactor !== undefined) {
    const s = opts.scaleFactor;
    if (!Number.isInteger(H * s) || !Number.isInteger(W * s)) {
      throw new RangeError(`interpolate: scale factor ${s} on ${H}x${W} gives a fractional size; pass size instead`);
    }
    size = [H * s, W * s];
  } else throw new RangeError('interpolate: give size or scaleFactor');
  const [oh, ow] = size;
  if (oh === H && ow === W) return tf.clone(x);
  if (mode === 'bilinear') return resizeBilinear(x, size, false);
  if (mode !== 'nearest') throw new RangeError(`interpolate: mode must be 'bilinear' or 'nearest', got '${String(mode)}'`);
  const iy = torchNearestIndices(H, oh);
  const ix = torchNearestIndices(W, ow);
  if (sameIndices(iy, tfjsNearestIndices(H, oh)) && sameIndices(ix, tfjsNearestIndices(W, ow))) {
    return tf.image.resizeNearestNeighbor(x, size, false, false);
  }
  return tf.tidy(() => gatherAxis(gatherAxis(x, iy, 1), ix, 2));
}
