// Draws detections on an RGB image (HWC uint8, row-major): masks blended in the class colour, box
// outlines, and "name score" captions in a built-in 3x5 pixel font (no font files, so drawings are
// identical on every machine). The one detection drawing of all tools (infer, eval --show-dir,
// demo); colours come from visualization/palette, shared with segmentation overlays.
// Sizes follow the image: outline width and glyph size grow with the drawn image's short side
// (as mmdet's imshow_det_bboxes scales its font), and captions are placed so that nested boxes'
// captions never overlap.
import type { RgbImage } from '../datasets/io/image';
import type { DetectionResult } from '../structures/results';
import { labelColor } from './palette';

/** Class colour (the shared palette). */
export const classColor = labelColor;

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

function setPx(img: RgbImage, x: number, y: number, c: readonly number[]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const p = (y * img.width + x) * 3;
  img.data[p] = c[0];
  img.data[p + 1] = c[1];
  img.data[p + 2] = c[2];
}

/** Glyph pixel size for an image: 1 up to a 240 px short side, then one more per 240 px (>= 8 px text). */
export function fontScale(width: number, height: number): number {
  return Math.max(1, Math.floor(Math.min(width, height) / 240) + 1);
}

/** Caption box size in pixels at glyph scale `s`: 4s per character (3 + 1 gap) plus a 1s margin, 7s high. */
export function textSize(text: string, s: number): { w: number; h: number } {
  return { w: (4 * text.length + 1) * s, h: 7 * s };
}

/** Writes `text` with its caption box's top-left at (x, y), glyphs of s x s pixels on a dark strip. */
export function drawText(img: RgbImage, text: string, x: number, y: number, color: readonly number[], s = 1): void {
  const str = text.toLowerCase();
  const { w, h } = textSize(str, s);
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) setPx(img, xx, yy, [0, 0, 0]);
  [...str].forEach((ch, k) => {
    const g = GLYPHS[ch] ?? GLYPHS['_'];
    for (let r = 0; r < 5; r++)
      for (let b = 0; b < 3; b++)
        if (g[r] & (4 >> b)) for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) setPx(img, x + s * (1 + 4 * k + b) + dx, y + s * (1 + r) + dy, color);
  });
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Caption positions (top-left) for boxes [x1, y1, x2, y2] in drawing order: above the box's
 * top-left corner, else inside it, else below it; when that spot is taken by an earlier caption
 * (nested or touching boxes) the caption moves down in caption-height steps until it is free.
 * Captions stay inside the image (width x height) as far as it allows.
 */
export function layoutCaptions(boxes: readonly (readonly number[])[], sizes: readonly { w: number; h: number }[], width: number, height: number): Rect[] {
  const placed: Rect[] = [];
  boxes.forEach((b, i) => {
    const { w, h } = sizes[i];
    const x = Math.max(0, Math.min(Math.round(b[0]), width - w));
    const clampY = (y: number) => Math.max(0, Math.min(y, height - h));
    const candidates = [Math.round(b[1]) - h, Math.round(b[1]) + 1, Math.round(b[3]) + 1].map(clampY);
    let rect = candidates.map((y) => ({ x, y, w, h })).find((r) => !placed.some((p) => overlaps(p, r)));
    if (!rect) {
      rect = { x, y: candidates[0], w, h };
      for (let step = 0; step < 1000 && placed.some((p) => overlaps(p, rect!)); step++) {
        const below: number | null = rect.y + h <= height - h ? rect.y + h : null;
        if (below === null) break; // no free spot left: overlap rather than leave the image
        rect = { ...rect, y: below };
      }
    }
    placed.push(rect);
  });
  return placed;
}

export interface DrawOptions {
  classes?: readonly string[] | null;
  scoreThr?: number;
  /** Mask opacity in [0, 1]. */
  alpha?: number;
  /** Integer upscaling (nearest) before drawing; 'auto' (default) upscales images under 480 px so captions stay readable. */
  scale?: number | 'auto';
}

/** The 'auto' drawing scale: the integer k with max(w, h) * k reaching ~480 px (1 for larger images). */
export function autoScale(width: number, height: number): number {
  return Math.max(1, Math.floor(480 / Math.max(width, height, 1)));
}

/** Nearest-neighbour integer upscaling of an RGB image (k = 1 returns a copy). */
export function upscale(img: RgbImage, k: number): RgbImage {
  const w = img.width * k;
  const h = img.height * k;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (Math.floor(y / k) * img.width + Math.floor(x / k)) * 3;
      data.set(img.data.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

/** Caption text of a detection: the class name (label number when unnamed) and the score. */
export function captionOf(label: number, score: number, classes?: readonly string[] | null): string {
  return `${classes?.[label] ?? String(label)} ${score.toFixed(2)}`;
}

/**
 * A copy of `img` with the detections of score >= scoreThr (default 0.3) drawn, highest score's
 * caption placed first. Boxes are in pixels of `img`; masks are `img`-sized bitmaps.
 */
export function drawDetections(img: RgbImage, det: DetectionResult, opts: DrawOptions = {}): RgbImage {
  const k = opts.scale === undefined || opts.scale === 'auto' ? autoScale(img.width, img.height) : Math.max(1, Math.round(opts.scale));
  const out = upscale(img, k);
  const thr = opts.scoreThr ?? 0.3;
  const alpha = opts.alpha ?? 0.5;
  const order = Array.from(det.scores.keys())
    .filter((j) => det.scores[j] >= thr)
    .sort((a, b) => det.scores[b] - det.scores[a]);
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
  const s = fontScale(out.width, out.height);
  const thick = s;
  const boxes = order.map((j) => Array.from(det.bboxes.subarray(j * 4, j * 4 + 4), (v) => Math.round(v * k)));
  order.forEach((j, i) => {
    const c = classColor(det.labels[j]);
    const [x1, y1, x2, y2] = boxes[i];
    for (let t = 0; t < thick; t++) {
      for (let x = x1; x <= x2; x++) {
        setPx(out, x, y1 + t, c);
        setPx(out, x, y2 - t, c);
      }
      for (let y = y1; y <= y2; y++) {
        setPx(out, x1 + t, y, c);
        setPx(out, x2 - t, y, c);
      }
    }
  });
  const texts = order.map((j) => captionOf(det.labels[j], det.scores[j], opts.classes));
  const rects = layoutCaptions(boxes, texts.map((t) => textSize(t, s)), out.width, out.height);
  order.forEach((j, i) => drawText(out, texts[i], rects[i].x, rects[i].y, classColor(det.labels[j]), s));
  return out;
}
