// Drawing of detections (boxes, masks, labels) and segmentation overlays on a canvas.
import type { DetectionResult, SegResult } from '../index';

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

const PALETTE: [number, number, number][] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
  [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255], [170, 110, 40],
];
export const colorOf = (k: number): [number, number, number] => PALETTE[k % PALETTE.length];

/** Upscale factor so that small images (the demo's are 128 px) are drawn at about 512 px. */
export function displayScale(im: RgbImage): number {
  return Math.max(1, Math.floor(512 / Math.max(im.width, im.height)));
}

function rgba(im: RgbImage): ImageData {
  const out = new ImageData(im.width, im.height);
  for (let i = 0; i < im.width * im.height; i++) {
    out.data[i * 4] = im.data[i * 3];
    out.data[i * 4 + 1] = im.data[i * 3 + 1];
    out.data[i * 4 + 2] = im.data[i * 3 + 2];
    out.data[i * 4 + 3] = 255;
  }
  return out;
}

/** Draws `base` (with per-pixel colour blending already applied) at `scale`, returns the 2d context. */
function drawBase(canvas: HTMLCanvasElement, base: ImageData, scale: number): CanvasRenderingContext2D {
  canvas.width = base.width * scale;
  canvas.height = base.height * scale;
  const ctx = canvas.getContext('2d')!;
  const tmp = new OffscreenCanvas(base.width, base.height);
  tmp.getContext('2d')!.putImageData(base, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
  return ctx;
}

/** Boxes, 50% mask tint and "class score" captions (font scaled to the drawn image). */
export function drawDetections(canvas: HTMLCanvasElement, im: RgbImage, r: DetectionResult, classes: string[] | null, thr: number): number {
  const scale = displayScale(im);
  const base = rgba(im);
  const keep: number[] = [];
  for (let i = 0; i < r.scores.length; i++) if (r.scores[i] >= thr) keep.push(i);
  for (const i of keep) {
    const m = r.masks?.[i];
    if (!m) continue;
    const [cr, cg, cb] = colorOf(r.labels[i]);
    for (let p = 0; p < m.length; p++) {
      if (!m[p]) continue;
      base.data[p * 4] = (base.data[p * 4] + cr) >> 1;
      base.data[p * 4 + 1] = (base.data[p * 4 + 1] + cg) >> 1;
      base.data[p * 4 + 2] = (base.data[p * 4 + 2] + cb) >> 1;
    }
  }
  const ctx = drawBase(canvas, base, scale);
  const font = Math.max(12, Math.round(Math.max(canvas.width, canvas.height) / 40));
  ctx.font = `${font}px sans-serif`;
  ctx.lineWidth = Math.max(2, font / 6);
  for (const i of keep) {
    const [x1, y1, x2, y2] = Array.from(r.bboxes.subarray(i * 4, i * 4 + 4), (v) => v * scale);
    const [cr, cg, cb] = colorOf(r.labels[i]);
    ctx.strokeStyle = `rgb(${cr},${cg},${cb})`;
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    const text = `${classes?.[r.labels[i]] ?? r.labels[i]} ${r.scores[i].toFixed(2)}`;
    const tw = ctx.measureText(text).width + 6;
    const ty = y1 - font - 4 >= 0 ? y1 - font - 4 : y1;
    ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
    ctx.fillRect(x1, ty, tw, font + 4);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, x1 + 3, ty + font);
  }
  return keep.length;
}

/** The image blended 50/50 with the class colour of every pixel, plus a legend of the classes present. */
export function drawSegmentation(canvas: HTMLCanvasElement, im: RgbImage, r: SegResult, classes: string[] | null): Map<number, number> {
  const scale = displayScale(im);
  const base = rgba(im);
  const counts = new Map<number, number>();
  for (let p = 0; p < r.sem_seg.length; p++) {
    const k = r.sem_seg[p];
    counts.set(k, (counts.get(k) ?? 0) + 1);
    const [cr, cg, cb] = colorOf(k);
    base.data[p * 4] = (base.data[p * 4] + cr) >> 1;
    base.data[p * 4 + 1] = (base.data[p * 4 + 1] + cg) >> 1;
    base.data[p * 4 + 2] = (base.data[p * 4 + 2] + cb) >> 1;
  }
  const ctx = drawBase(canvas, base, scale);
  const font = Math.max(12, Math.round(Math.max(canvas.width, canvas.height) / 40));
  ctx.font = `${font}px sans-serif`;
  let y = 4;
  for (const [k] of [...counts].sort((a, b) => a[0] - b[0])) {
    const [cr, cg, cb] = colorOf(k);
    const text = String(classes?.[k] ?? k);
    ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
    ctx.fillRect(4, y, ctx.measureText(text).width + 8, font + 4);
    ctx.fillStyle = '#fff';
    ctx.fillText(text, 8, y + font);
    y += font + 8;
  }
  return counts;
}
