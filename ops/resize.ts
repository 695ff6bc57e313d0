// PyTorch F.interpolate(mode='bilinear' | 'nearest', align_corners=False) on NHWC tensors.
//
// bilinear: PyTorch (aten upsample_bilinear2d, CPU) takes scale = float32(in/out), the source position
// src = max(0, (dst + 0.5) * scale - 0.5) in float32, i0 = floor(src), i1 = min(i0 + 1, in - 1),
// l1 = src - i0, l0 = 1 - l1, and sums width first: out = l0h * (x[h0,w0] l0w + x[h0,w1] l1w) + l1h * (...).
// tfjs resizeBilinear(halfPixelCenters) follows the same rule but in float64, which moved downscaled
// values by up to 2e-5 (issue 13). When in/out is exact in float32 (integer up-scales, the FPN and
// TinyViM cases) both agree and tfjs's kernel is used; otherwise we gather with PyTorch's float32
// indices and weights (test/ops_resize_pool.test.ts checks odd down- and up-scales).
// nearest: PyTorch's src = floor(dst * scale) with scale = float32(in/out), an index rule that can differ
// from tfjs's float64 one near whole numbers (e.g. 2 -> 82 at dst 41: PyTorch 0, tfjs 1). We compute PyTorch's indices and use tfjs's
// resizeNearestNeighbor when they agree (always for integer up-scales, the FPN case), else an explicit
// gather with a scatter-add gradient.
import * as tf from '@tensorflow/tfjs';

const f = Math.fround;

export type InterpMode = 'bilinear' | 'nearest';

/** PyTorch 'nearest' source index of each output position, `scale` = in/out (or 1/scale_factor). */
export function torchNearestIndices(inSize: number, outSize: number, scale = f(inSize / outSize)): Int32Array {
  const s = f(scale);
  if (outSize === inSize) return Int32Array.from({ length: outSize }, (_, d) => d);
  if (outSize === 2 * inSize) return Int32Array.from({ length: outSize }, (_, d) => d >> 1);
  return Int32Array.from({ length: outSize }, (_, d) => Math.min(Math.floor(f(d * s)), inSize - 1));
}

/** PyTorch bilinear (align_corners=False) source indices and weights of one axis, in float32. */
export function torchLinearWeights(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l0: Float32Array; l1: Float32Array } {
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, f(f(f(d + 0.5) * scale) - 0.5));
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = lo < inSize - 1 ? lo + 1 : lo;
    l1[d] = f(src - lo);
    l0[d] = f(1 - l1[d]);
  }
  return { i0, i1, l0, l1 };
}

/** Bilinear resize with PyTorch's float32 indices/weights, width first then height (differentiable). */
function torchBilinear(x: tf.Tensor4D, oh: number, ow: number): tf.Tensor4D {
  const wy = torchLinearWeights(x.shape[1], oh);
  const wx = torchLinearWeights(x.shape[2], ow);
  return tf.tidy(() => {
    const lw0 = tf.tensor4d(wx.l0, [1, 1, ow, 1]);
    const lw1 = tf.tensor4d(wx.l1, [1, 1, ow, 1]);
    const rows = tf.add(tf.mul(gatherAxis(x, wx.i0, 2), lw0), tf.mul(gatherAxis(x, wx.i1, 2), lw1)) as tf.Tensor4D;
    const lh0 = tf.tensor4d(wy.l0, [1, oh, 1, 1]);
    const lh1 = tf.tensor4d(wy.l1, [1, oh, 1, 1]);
    return tf.add(tf.mul(gatherAxis(rows, wy.i0, 1), lh0), tf.mul(gatherAxis(rows, wy.i1, 1), lh1)) as tf.Tensor4D;
  });
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
  if (mode === 'bilinear') {
    if (Math.fround(H / oh) === H / oh && Math.fround(W / ow) === W / ow) return tf.image.resizeBilinear(x, size, false, true);
    return torchBilinear(x, oh, ow);
  }
  if (mode !== 'nearest') throw new RangeError(`interpolate: mode must be 'bilinear' or 'nearest', got '${String(mode)}'`);
  const iy = torchNearestIndices(H, oh);
  const ix = torchNearestIndices(W, ow);
  if (sameIndices(iy, tfjsNearestIndices(H, oh)) && sameIndices(ix, tfjsNearestIndices(W, ow))) {
    return tf.image.resizeNearestNeighbor(x, size, false, false);
  }
  return tf.tidy(() => gatherAxis(gatherAxis(x, iy, 1), ix, 2));
}
