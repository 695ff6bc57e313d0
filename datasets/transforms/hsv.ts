/**
 * uint8 RGB <-> HSV with OpenCV's 8-bit conventions (cv2.COLOR_BGR2HSV / HSV2BGR,
 * which mmcv.bgr2hsv/hsv2bgr call): H in [0,180), S and V in [0,255].
 * Forward uses OpenCV's 12-bit fixed-point division tables (bit-exact, scalar and SIMD agree).
 * Backward follows OpenCV 4.x's HSV2RGB_b (imgproc color_hsv.simd.hpp, since 4.1.1): pixels in whole
 * SIMD blocks of a row (4 x the float lanes: 32 pixels with AVX2, the dispatch x86 wheels pick) go
 * through HSV2RGB_simd in float32 and are TRUNCATED to uint8; the row's remaining pixels go through
 * the scalar HSV2RGB_native and are rounded (saturate_cast). Both computed here op by op in float32.
 */

const SHIFT = 12;
const HALF = 1 << (SHIFT - 1);
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << SHIFT) / i);
  HDIV[i] = Math.round((180 << SHIFT) / (6 * i));
}

/** In place over an HWC uint8 RGB buffer: channels become H, S, V. */
export function rgbToHsv(img: Uint8Array): void {
  for (let p = 0; p < img.length; p += 3) {
    const r = img[p];
    const g = img[p + 1];
    const b = img[p + 2];
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    const s = (diff * SDIV[v] + HALF) >> SHIFT;
    let h: number;
    if (v === r) h = g - b;
    else if (v === g) h = b - r + 2 * diff;
    else h = r - g + 4 * diff;
    h = (h * HDIV[diff] + HALF) >> SHIFT;
    if (h < 0) h += 180;
    img[p] = h;
    img[p + 1] = s;
    img[p + 2] = v;
  }
}

const f32 = new Float32Array(1);
const fr = (x: number) => ((f32[0] = x), f32[0]);

/** cvRound: nearest, ties to even, then saturate to uint8. */
function sat(x: number): number {
  let r = Math.round(x);
  if (Math.abs(x % 1) === 0.5 && r % 2 !== 0) r -= 1;
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

const SECTOR: number[][] = [
  [1, 3, 0],
  [1, 0, 2],
  [3, 0, 1],
  [0, 2, 1],
  [0, 1, 3],
  [2, 1, 0],
]; // indices into tab for (b, g, r)

/** Pixels per SIMD block of OpenCV's HSV2RGB_b with AVX2 (4 vectors of 8 float lanes). */
export const OPENCV_HSV_SIMD_BLOCK = 32;

/** OpenCV HSV2RGB_simd on one pixel (float32 ops in the kernel's order); returns [b, g, r] in 0..1. */
function hsv2rgbSimd(h8: number, s: number, v: number, hscale: number, out: Float32Array): void {
  let h = fr(h8 * hscale);
  const pre = Math.trunc(h);
  h = fr(h - pre);
  const t0 = v;
  const t1 = fr(v * fr(1 - s));
  const t2 = fr(v * fr(1 - fr(s * h)));
  const t3 = fr(v * fr(1 - fr(s * fr(1 - h))));
  const sector = fr(pre - fr(Math.trunc(fr(pre * fr(1 / 6))) * 6));
  out[0] = sector < 2 ? t1 : sector === 2 ? t3 : sector === 3 || sector === 4 ? t0 : t2;
  out[1] = sector < 1 ? t3 : sector === 1 || sector === 2 ? t0 : sector === 3 ? t2 : t1;
  out[2] = sector < 1 ? t0 : sector === 1 ? t2 : sector === 2 || sector === 3 ? t1 : sector === 4 ? t3 : t0;
}

/** Truncation to uint8 with saturation (v_trunc then v_pack_u / v_pack). */
function truncSat(x: number): number {
  const t = Math.trunc(x);
  return t < 0 ? 0 : t > 255 ? 255 : t;
}

/**
 * In place over HWC uint8 H, S, V: back to RGB as cv2.cvtColor(HSV2BGR) on an x86 build with AVX2
 * (see the module comment). `width` is the row length in pixels (rows are converted one by one);
 * `block` the SIMD block (32 for AVX2, 16 for SSE4.1/NEON builds; 0 gives the scalar path only).
 */
export function hsvToRgb(img: Uint8Array, width = img.length / 3, block = OPENCV_HSV_SIMD_BLOCK): void {
  const hscale = fr(6 / 180);
  const inv255 = fr(1 / 255);
  const bgr = new Float32Array(3);
  const rows = img.length / 3 / width;
  const simdEnd = block > 0 ? Math.floor(width / block) * block : 0;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < simdEnd; x++) {
      const p = (y * width + x) * 3;
      hsv2rgbSimd(img[p], fr(img[p + 1] * inv255), fr(img[p + 2] * inv255), hscale, bgr);
      img[p] = truncSat(fr(bgr[2] * 255));
      img[p + 1] = truncSat(fr(bgr[1] * 255));
      img[p + 2] = truncSat(fr(bgr[0] * 255));
    }
    if (simdEnd < width) hsvToRgbScalar(img.subarray((y * width + simdEnd) * 3, (y + 1) * width * 3));
  }
}

/** In place: H, S, V back to RGB with OpenCV's scalar HSV2RGB_native + saturate_cast (rounding). */
export function hsvToRgbScalar(img: Uint8Array): void {
  const hscale = fr(6 / 180);
  const tab = new Float32Array(4);
  for (let p = 0; p < img.length; p += 3) {
    let h = fr(img[p] * hscale);
    const s = fr(img[p + 1] * fr(1 / 255));
    const v = fr(img[p + 2] * fr(1 / 255));
    let b: number;
    let g: number;
    let r: number;
    if (s === 0) b = g = r = v;
    else {
      while (h < 0) h = fr(h + 6);
      while (h >= 6) h = fr(h - 6);
      let sector = Math.floor(h);
      h = fr(h - sector);
      if (sector < 0 || sector >= 6) {
        sector = 0;
        h = 0;
      }
      tab[0] = v;
      // Each float32 operation rounded as in C.
      tab[1] = v * fr(1 - s);
      tab[2] = v * fr(1 - fr(s * h));
      tab[3] = v * fr(1 - fr(s * fr(1 - h)));
      const sd = SECTOR[sector];
      b = tab[sd[0]];
      g = tab[sd[1]];
      r = tab[sd[2]];
    }
    img[p] = sat(fr(r * 255));
    img[p + 1] = sat(fr(g * 255));
    img[p + 2] = sat(fr(b * 255));
  }
}
