// PyTorch F.interpolate(mode='bilinear' | 'nearest', align_corners=False) on NHWC tensors.
//
// bilinear: tfjs resizeBilinear(halfPixelCenters=true) computes src = (dst + 0.5) * in/out - 0.5 with the
// lower neighbour clamped at 0 and the upper at in-1, which is PyTorch's rule (checked against
// shared/fixtures/ops/interpolate.json; tfjs works out the source position in float64, PyTorch in float32,
// a gap well below the fixture's 5e-6 tolerance).
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
  if (mode === 'bilinear') return tf.image.resizeBilinear(x, size, false, true);
  if (mode !== 'nearest') throw new RangeError(`interpolate: mode must be 'bilinear' or 'nearest', got '${String(mode)}'`);
  const iy = torchNearestIndices(H, oh);
  const ix = torchNearestIndices(W, ow);
  if (sameIndices(iy, tfjsNearestIndices(H, oh)) && sameIndices(ix, tfjsNearestIndices(W, ow))) {
    return tf.image.resizeNearestNeighbor(x, size, false, false);
  }
  return tf.tidy(() => gatherAxis(gatherAxis(x, iy, 1), ix, 2));
}
