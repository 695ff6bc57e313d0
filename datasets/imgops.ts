/**
 * Pixel operations on HWC typed arrays (OpenCV conventions, as mmcv uses):
 * bilinear = cv2.INTER_LINEAR (half-pixel centres, edge clamp, no antialias; we
 * round a float result where OpenCV uses 11-bit fixed point, so values may differ by 1),
 * nearest = cv2.INTER_NEAREST (src = floor(dst * src/dst)).
 */

type Pixels = Uint8Array | Float32Array;

function linearTable(src: number, dst: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    let s = (d + 0.5) * scale - 0.5;
    let k = Math.floor(s);
    let t = s - k;
    if (k < 0) {
      k = 0;
      t = 0;
    }
    if (k >= src - 1) {
      k = src - 1;
      t = 0;
    }
    i0[d] = k;
    i1[d] = Math.min(k + 1, src - 1);
    f[d] = t;
  }
  return { i0, i1, f };
}

/** Bilinear resize of an HWC image with `c` channels. uint8 in -> uint8 out (rounded, clamped). */
export function resizeBilinear<T extends Pixels>(src: T, h: number, w: number, c: number, nh: number, nw: number): T {
  const out = (src instanceof Uint8Array ? new Uint8Array(nh * nw * c) : new Float32Array(nh * nw * c)) as T;
  if (nh === h && nw === w) {
    out.set(src);
    return out;
  }
  const xs = linearTable(w, nw);
  const ys = linearTable(h, nh);
  const isU8 = src instanceof Uint8Array;
  // Horizontal pass into a float row buffer for the two source rows, then blend.
  const row0 = new Float32Array(nw * c);
  const row1 = new Float32Array(nw * c);
  let cached0 = -1;
  let cached1 = -1;
  const hline = (y: number, dst: Float32Array) => {
    const base = y * w * c;
    for (let x = 0; x < nw; x++) {
      const a = base + xs.i0[x] * c;
      const b = base + xs.i1[x] * c;
      const t = xs.f[x];
      for (let k = 0; k < c; k++) dst[x * c + k] = src[a + k] + (src[b + k] - src[a + k]) * t;
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
    const t = ys.f[y];
    const o = y * nw * c;
    if (isU8) {
      for (let i = 0; i < nw * c; i++) {
        const v = row0[i] + (row1[i] - row0[i]) * t + 0.5;
        out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v; // Uint8Array truncates the +0.5 -> round
      }
    } else {
      for (let i = 0; i < nw * c; i++) out[o + i] = row0[i] + (row1[i] - row0[i]) * t;
    }
  }
  return out;
}

/** Nearest resize of an HxW (c channels) array, cv2.INTER_NEAREST indexing. */
export function resizeNearest<T extends Pixels>(src: T, h: number, w: number, c: number, nh: number, nw: number): T {
  const Ctor = src.constructor as new (n: number) => T;
  const out = new Ctor(nh * nw * c);
  const xi = new Int32Array(nw);
  for (let x = 0; x < nw; x++) xi[x] = Math.min(Math.floor((x * w) / nw), w - 1);
  for (let y = 0; y < nh; y++) {
    const sy = Math.min(Math.floor((y * h) / nh), h - 1);
    const sb = sy * w * c;
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
