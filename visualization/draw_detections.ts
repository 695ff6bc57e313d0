// Draws detections on an RGB image: masks blended in the class colour, box outlines, and a
// "label score" caption in a built-in 3x5 pixel font (no font files needed).
import type { RgbImage } from '../datasets/io/image';
import type { DetectionResult } from '../structures/results';
import { labelColor } from './palette';

/** The colour of a class (the project's one palette, visualization/palette). */
export function classColor(label: number): [number, number, number] {
  return labelColor(label);
}

// 3x5 glyphs, rows top to bottom, 3 bits per row (MSB = left column).
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], ':': [0, 2, 0, 2, 0], '-': [0, 0, 7, 0, 0], '_': [0, 0, 0, 0, 7], ' ': [0, 0, 0, 0, 0],
  a: [2, 5, 7, 5, 5], b: [6, 5, 6, 5, 6], c: [7, 4, 4, 4, 7], d: [6, 5, 5, 5, 6], e: [7, 4, 6, 4, 7], f: [7, 4, 6, 4, 4],
  g: [7, 4, 5, 5, 7], h: [5, 5, 7, 5, 5], i: [7, 2, 2, 2, 7], j: [1, 1, 1, 5, 7], k: [5, 5, 6, 5, 5], l: [4, 4, 4, 4, 7],
  m: [5, 7, 7, 5, 5], n: [6, 5, 5, 5, 5], o: [7, 5, 5, 5, 7], p: [7, 5, 7, 4, 4], q: [7, 5, 5, 7, 1], r: [6, 5, 6, 5, 5],
  s: [7, 4, 7, 1, 7], t: [7, 2, 2, 2, 2], u: [5, 5, 5, 5, 7], v: [5, 5, 5, 5, 2], w: [5, 5, 7, 7, 5], x: [5, 5, 2, 5, 5],
  y: [5, 5, 2, 2, 2], z: [7, 1, 2, 4, 7],
};

function setPx(img: RgbImage, x: number, y: number, c: [number, number, number]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const p = (y * img.width + x) * 3;
  img.data[p] = c[0];
  img.data[p + 1] = c[1];
  img.data[p + 2] = c[2];
}

/** Writes `text` with its top-left at (x, y) on a dark background strip. */
export function drawText(img: RgbImage, text: string, x: number, y: number, color: [number, number, number]): void {
  const s = text.toLowerCase();
  for (let yy = y - 1; yy < y + 6; yy++) for (let xx = x - 1; xx < x + 4 * s.length; xx++) setPx(img, xx, yy, [0, 0, 0]);
  [...s].forEach((ch, k) => {
    const g = GLYPHS[ch] ?? GLYPHS['_'];
    for (let r = 0; r < 5; r++) for (let b = 0; b < 3; b++) if (g[r] & (4 >> b)) setPx(img, x + 4 * k + b, y + r, color);
  });
}

export interface DrawOptions {
  classes?: readonly string[];
  scoreThr?: number;
  /** Mask opacity in [0, 1]. */
  alpha?: number;
  /** Integer upscaling (nearest) before drawing, so small images stay readable. */
  scale?: number;
}

/** Nearest-neighbour integer upscaling of an RGB image (k = 1 returns a copy). */
export function upscale(img: RgbImage, k: number): RgbImage {
  const w = img.width * k;
  const h = img.height * k;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((Math.floor(y / k) * img.width + Math.floor(x / k)) * 3);
      data.set(img.data.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

/** A copy of `img` with the detections drawn on it. */
export function drawDetections(img: RgbImage, det: DetectionResult, opts: DrawOptions = {}): RgbImage {
  const k = Math.max(1, Math.round(opts.scale ?? 1));
  const out = upscale(img, k);
  const thr = opts.scoreThr ?? 0.3;
  const alpha = opts.alpha ?? 0.5;
  const order = Array.from(det.scores.keys()).filter((j) => det.scores[j] >= thr);
  for (const j of order) {
    const m = det.masks?.[j];
    if (!m) continue;
    const c = classColor(det.labels[j]);
    for (let p = 0; p < out.width * out.height; p++) {
      const src = Math.floor(Math.floor(p / out.width) / k) * img.width + Math.floor((p % out.width) / k);
      if (!m[src]) continue;
      for (let ch = 0; ch < 3; ch++) out.data[p * 3 + ch] = Math.round((1 - alpha) * out.data[p * 3 + ch] + alpha * c[ch]);
    }
  }
  for (const j of order) {
    const c = classColor(det.labels[j]);
    const [x1, y1, x2, y2] = Array.from(det.bboxes.subarray(j * 4, j * 4 + 4), (v) => Math.round(v * k));
    for (let x = x1; x <= x2; x++) {
      setPx(out, x, y1, c);
      setPx(out, x, y2, c);
    }
    for (let y = y1; y <= y2; y++) {
      setPx(out, x1, y, c);
      setPx(out, x2, y, c);
    }
    const name = opts.classes?.[det.labels[j]] ?? String(det.labels[j]);
    drawText(out, `${name} ${det.scores[j].toFixed(2)}`, Math.max(0, x1) + 1, Math.max(0, y1 - 7 < 0 ? y1 + 2 : y1 - 7), c);
  }
  return out;
}
