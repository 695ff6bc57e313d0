/**
 * uint8 RGB <-> HSV with OpenCV's 8-bit conventions (cv2.COLOR_BGR2HSV / HSV2BGR,
 * which mmcv.bgr2hsv/hsv2bgr call): H in [0,180), S and V in [0,255].
 * Forward uses OpenCV's 12-bit fixed-point division tables; backward goes through
 * float32 and rounds to nearest (ties to even), as saturate_cast does.
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

/** In place: H, S, V channels back to RGB. */
export function hsvToRgb(img: Uint8Array): void {
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
