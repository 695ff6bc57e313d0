// mmdet 2.x `_do_paste_mask` on the CPU (one box at a time, as mmdet does on CPU): the M x M mask
// probabilities are sampled with F.grid_sample(bilinear, zeros padding, align_corners=False) at the centre
// of every image pixel mapped into the box, then thresholded (>= threshold) into a binary image mask.
// Only the window [floor(x1)-1, ceil(x2)+1) x [floor(y1)-1, ceil(y2)+1) (clamped to the image) is
// computed; the rest stays 0, as in mmdet. All arithmetic is float32 in PyTorch's order.
const f = Math.fround;

/** Normalised grid coordinate of pixel centres lo..hi-1 along one axis: ((j + 0.5) - a) / (b - a) * 2 - 1. */
function gridAxis(lo: number, hi: number, a: number, b: number): Float32Array {
  const out = new Float32Array(Math.max(hi - lo, 0));
  const len = f(b - a);
  for (let j = lo; j < hi; j++) {
    const g = f(f(f(f(f(j + 0.5) - a) / len) * 2) - 1);
    out[j - lo] = Number.isFinite(g) || Number.isNaN(g) ? g : 0; // mmdet sets infinite entries to 0
  }
  return out;
}

/** The pasted window [x0, y0, x1, y1) of a box in an imgH x imgW image. */
export function pasteWindow(box: [number, number, number, number], imgH: number, imgW: number): [number, number, number, number] {
  const x0 = Math.max(Math.floor(box[0]) - 1, 0);
  const y0 = Math.max(Math.floor(box[1]) - 1, 0);
  const x1 = Math.min(Math.ceil(box[2]) + 1, imgW);
  const y1 = Math.min(Math.ceil(box[3]) + 1, imgH);
  return [x0, y0, x1, y1];
}

/**
 * The pasted probabilities: imgH*imgW row-major, 0 outside the box's window.
 * maskProbs: M*M row-major. Coordinates: box in image pixels (x1, y1, x2, y2).
 */
export function pasteMaskProbs(maskProbs: Float32Array, M: number, box: [number, number, number, number], imgH: number, imgW: number): Float32Array {
  if (maskProbs.length !== M * M) throw new RangeError(`pasteMask: ${maskProbs.length} mask values, expected ${M}x${M}`);
  const out = new Float32Array(imgH * imgW);
  const [x0, y0, x1, y1] = pasteWindow(box, imgH, imgW);
  const gx = gridAxis(x0, x1, box[0], box[2]);
  const gy = gridAxis(y0, y1, box[1], box[3]);
  // grid_sample unnormalisation (align_corners=False), as PyTorch's CPU kernel: (g + 1) * (M / 2) - 0.5.
  const half = f(M / 2);
  const ix = gx.map((g) => f(f(f(g + 1) * half) - 0.5));
  const iy = gy.map((g) => f(f(f(g + 1) * half) - 0.5));
  const at = (r: number, c: number) => (r >= 0 && r < M && c >= 0 && c < M ? maskProbs[r * M + c] : 0);
  for (let i = 0; i < iy.length; i++) {
    const y = iy[i];
    if (Number.isNaN(y)) continue;
    const yn = Math.floor(y);
    const n = f(y - yn);
    const s = f(1 - n);
    const row = (y0 + i) * imgW;
    for (let j = 0; j < ix.length; j++) {
      const x = ix[j];
      if (Number.isNaN(x)) continue;
      const xw = Math.floor(x);
      const w = f(x - xw);
      const e = f(1 - w);
      const v = f(f(f(f(at(yn, xw) * f(s * e)) + f(at(yn, xw + 1) * f(s * w))) + f(at(yn + 1, xw) * f(n * e))) + f(at(yn + 1, xw + 1) * f(n * w)));
      out[row + x0 + j] = v;
    }
  }
  return out;
}

/** Binary mask (1 where the pasted probability >= threshold), imgH*imgW row-major. */
export function pasteMask(maskProbs: Float32Array, M: number, box: [number, number, number, number], imgH: number, imgW: number, threshold = 0.5): Uint8Array {
  const probs = pasteMaskProbs(maskProbs, M, box, imgH, imgW);
  const out = new Uint8Array(probs.length);
  for (let i = 0; i < probs.length; i++) out[i] = probs[i] >= threshold ? 1 : 0;
  return out;
}
