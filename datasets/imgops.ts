/**
 * Pixel operations on HWC typed arrays with OpenCV's rules (mmcv's default cv2 backend):
 * - bilinear = cv2.resize INTER_LINEAR (imgproc resize.cpp): scale = 1 / (dst / src) in double,
 *   source fx = float((d + 0.5) * scale - 0.5), sx = floor(fx), clamped to [0, src - 1] with weight 0
 *   at the edges; uint8 uses 11-bit fixed-point weights (cvRound(w * 2048)), an integer horizontal
 *   pass and a vertical pass that, as VResizeLinearVec_32s8u on x86 (128-bit baseline), takes
 *   ((sat16(r0 >> 4) * b0 >> 16) + (sat16(r1 >> 4) * b1 >> 16) + 2) >> 2 for the row elements its
 *   16- and 8-wide loops cover and the scalar FixedPtCast (r0 * b0 + r1 * b1 + 2^21) >> 22 for the
 *   rest of the row; float32 uses the same indices with float weights. An exact 2x downscale of both sides is INTER_AREA in OpenCV
 *   (the "is_area_fast" rule): the mean of each 2x2 block, (a + b + c + d + 2) >> 2 for uint8.
 * - nearest = cv2.INTER_NEAREST: src = min(floor(d * (1 / (dst / src))), src - 1), double arithmetic.
 * What is derived and what is measured: docs/pipeline_fidelity.md.
 */

type Pixels = Uint8Array | Float32Array;

const fr = Math.fround;
const COEF_BITS = 11;
const COEF_SCALE = 1 << COEF_BITS;

/** cvRound (ties to even) of a float to a short. */
function cvRoundShort(x: number): number {
  let r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) r -= 1;
  return Math.max(-32768, Math.min(32767, r));
}

/** OpenCV INTER_LINEAR index and weight tables of one axis. */
export function cvLinearTable(src: number, dst: number): { i0: Int32Array; i1: Int32Array; f: Float32Array; a0: Int32Array; a1: Int32Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float32Array(dst);
  const a0 = new Int32Array(dst);
  const a1 = new Int32Array(dst);
  const scale = 1 / (dst / src);
  for (let d = 0; d < dst; d++) {
    let fx = fr((d + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx = fr(fx - sx);
    if (sx < 0) {
      fx = 0;
      sx = 0;
    }
    if (sx >= src - 1) {
      fx = 0;
      sx = src - 1;
    }
    i0[d] = sx;
    i1[d] = Math.min(sx + 1, src - 1);
    f[d] = fx;
    a0[d] = cvRoundShort(fr(1 - fx) * COEF_SCALE);
    a1[d] = cvRoundShort(fx * COEF_SCALE);
  }
  return { i0, i1, f, a0, a1 };
}

/** OpenCV INTER_NEAREST source indices of one axis. */
export function cvNearestIndices(src: number, dst: number): Int32Array {
  const ifx = 1 / (dst / src);
  return Int32Array.from({ length: dst }, (_, d) => Math.min(Math.floor(d * ifx), src - 1));
}

/** int16 saturation (v_pack / _mm_adds_epi16). */
function sat16(v: number): number {
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

/** v_mul_hi on int16: the high 16 bits of the 32-bit product. */
function mulhi(a: number, b: number): number {
  return (a * b) >> 16;
}

/**
 * Row elements OpenCV's VResizeLinearVec_32s8u handles with a 128-bit baseline: 16 at a time while
 * x <= width - 16, then 8 at a time while x < width - 8; the scalar loop takes the rest.
 */
export function simdVerticalEnd(width: number): number {
  let x = width >= 16 ? Math.floor(width / 16) * 16 : 0;
  while (x < width - 8) x += 8;
  return x;
}

/** Exact 2x downscale (OpenCV takes INTER_AREA's fast path for INTER_LINEAR then). */
function halve<T extends Pixels>(src: T, w: number, c: number, nh: number, nw: number, out: T): T {
  const isU8 = src instanceof Uint8Array;
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++)
      for (let k = 0; k < c; k++) {
        const p = (2 * y * w + 2 * x) * c + k;
        const s4 = src[p] + src[p + c] + src[p + w * c] + src[p + w * c + c];
        out[(y * nw + x) * c + k] = isU8 ? (s4 + 2) >> 2 : fr(fr(fr(fr(src[p] + src[p + c]) + src[p + w * c]) + src[p + w * c + c]) * 0.25);
      }
  return out;
}

/** cv2.resize INTER_LINEAR of an HWC image with `c` channels (uint8 in -> uint8 out, float32 -> float32). */
export function resizeBilinear<T extends Pixels>(src: T, h: number, w: number, c: number, nh: number, nw: number): T {
  const out = (src instanceof Uint8Array ? new Uint8Array(nh * nw * c) : new Float32Array(nh * nw * c)) as T;
  if (nh === h && nw === w) {
    out.set(src);
    return out;
  }
  if (2 * nh === h && 2 * nw === w) return halve(src, w, c, nh, nw, out);
  const xs = cvLinearTable(w, nw);
  const ys = cvLinearTable(h, nh);
  const isU8 = src instanceof Uint8Array;
  // Horizontal pass of the source rows each output row needs, then the vertical blend.
  const row0 = isU8 ? new Int32Array(nw * c) : new Float32Array(nw * c);
  const row1 = isU8 ? new Int32Array(nw * c) : new Float32Array(nw * c);
  let cached0 = -1;
  let cached1 = -1;
  const hline = (y: number, dst: Int32Array | Float32Array) => {
    const base = y * w * c;
    for (let x = 0; x < nw; x++) {
      const a = base + xs.i0[x] * c;
      const b = base + xs.i1[x] * c;
      for (let k = 0; k < c; k++) {
        dst[x * c + k] = isU8 ? src[a + k] * xs.a0[x] + src[b + k] * xs.a1[x] : fr(fr(src[a + k] * fr(1 - xs.f[x])) + fr(src[b + k] * xs.f[x]));
      }
    }
  };
  for (let y = 0; y < nh; y++) {
    const y0 = ys.i0[y];
    const y1 = ys.i1[y];
    if (cached0 !== y0) {
      if (cached1 === y0) row0.set(row1);
      else hline(y0, row0);
      cached0 = y0;
    }
    if (cached1 !== y1) {
      hline(y1, row1);
      cached1 = y1;
    }
    const o = y * nw * c;
    if (isU8) {
      const b0 = ys.a0[y];
      const b1 = ys.a1[y];
      const width = nw * c;
      const simdEnd = simdVerticalEnd(width);
      for (let i = 0; i < simdEnd; i++) {
        const t = sat16(mulhi(sat16(row0[i] >> 4), b0) + mulhi(sat16(row1[i] >> 4), b1));
        const v = (t + 2) >> 2;
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      for (let i = simdEnd; i < width; i++) {
        // FixedPtCast<int, uchar, 22>: (v + 2^21) >> 22, saturated. Products fit in float64 exactly.
        const v = Math.floor((row0[i] * b0 + row1[i] * b1 + (1 << 21)) / (1 << 22));
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    } else {
      const t = ys.f[y];
      const t0 = fr(1 - t);
      for (let i = 0; i < nw * c; i++) out[o + i] = fr(fr(row0[i] * t0) + fr(row1[i] * t));
    }
  }
  return out;
}

/** cv2.resize INTER_NEAREST of an HxW (c channels) array. */
export function resizeNearest<T extends Pixels>(src: T, h: number, w: number, c: number, nh: number, nw: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(nh * nw * c);
  const xi = cvNearestIndices(w, nw);
  const yi = cvNearestIndices(h, nh);
  for (let y = 0; y < nh; y++) {
    const sb = yi[y] * w * c;
    const ob = y * nw * c;
    if (c === 1) for (let x = 0; x < nw; x++) out[ob + x] = src[sb + xi[x]];
    else for (let x = 0; x < nw; x++) for (let k = 0; k < c; k++) out[ob + x * c + k] = src[sb + xi[x] * c + k];
  }
  return out;
}

/** Flip an HWC array horizontally or vertically (new array). */
export function flipPixels<T extends Pixels>(src: T, h: number, w: number, c: number, dir: 'horizontal' | 'vertical'): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(src.length);
  if (dir === 'horizontal') {
    for (let y = 0; y < h; y++) {
      const b = y * w * c;
      for (let x = 0; x < w; x++) {
        const s = b + x * c;
        const d = b + (w - 1 - x) * c;
        for (let k = 0; k < c; k++) out[d + k] = src[s + k];
      }
    }
  } else {
    const rs = w * c;
    for (let y = 0; y < h; y++) out.set(src.subarray(y * rs, (y + 1) * rs), (h - 1 - y) * rs);
  }
  return out;
}

/** Crop rows [y1,y2) and cols [x1,x2) (already clipped to the array). */
export function cropPixels<T extends Pixels>(src: T, w: number, c: number, y1: number, y2: number, x1: number, x2: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const nw = x2 - x1;
  const out = new Ctor((y2 - y1) * nw * c);
  for (let y = y1; y < y2; y++) out.set(src.subarray((y * w + x1) * c, (y * w + x2) * c), (y - y1) * nw * c);
  return out;
}

/** Pad at the bottom/right to (nh, nw) with a constant. */
export function padPixels<T extends Pixels>(src: T, h: number, w: number, c: number, nh: number, nw: number, value: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(nh * nw * c);
  if (value !== 0) out.fill(value);
  for (let y = 0; y < h; y++) out.set(src.subarray(y * w * c, (y + 1) * w * c), y * nw * c);
  return out;
}
