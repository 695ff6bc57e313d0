/**
 * Synthetic scenes: coloured shapes (one shape kind and hue per category, so they are
 * learnable) on textured low-saturation backgrounds, sizes from small to large, limited
 * overlaps, and sometimes a "crowd" cluster of tiny shapes of one category.
 * Masks are rasterised with the COCO polygon rule, so pixels == annotation.
 * Occluded objects keep their full polygon (occlusion is capped at 25% of an object).
 */
import { Rng } from '../../core/rng';
import { segmentationToBitmap } from '../masks';

export interface ShapeCategory {
  id: number; // COCO category id (deliberately non-contiguous)
  name: string;
  rgb: [number, number, number];
}

export const SHAPE_CATEGORIES: readonly ShapeCategory[] = [
  { id: 1, name: 'rectangle', rgb: [220, 50, 40] },
  { id: 3, name: 'ellipse', rgb: [40, 190, 60] },
  { id: 4, name: 'triangle', rgb: [40, 80, 230] },
  { id: 7, name: 'diamond', rgb: [240, 200, 30] },
];

export interface SceneObject {
  label: number; // index into SHAPE_CATEGORIES
  polygon: number[] | null; // null for a crowd region
  mask: Uint8Array; // row-major HxW
  bbox: [number, number, number, number]; // x, y, w, h (COCO)
  area: number;
  iscrowd: boolean;
}

export interface Scene {
  width: number;
  height: number;
  rgb: Uint8Array; // HWC
  objects: SceneObject[];
  /** ADE-style label map: 0 = other, k+1 = category k (topmost object wins). */
  labels: Uint8Array;
}

export interface SceneOptions {
  width: number;
  height: number;
  maxObjects?: number; // default 5
  crowdProb?: number; // default 0.15
}

function shapePolygon(label: number, cx: number, cy: number, r: number, aspect: number, angle: number): number[] {
  let pts: [number, number][];
  switch (label) {
    case 0:
      pts = [
        [-1, -aspect],
        [1, -aspect],
        [1, aspect],
        [-1, aspect],
      ];
      break;
    case 1:
      pts = Array.from({ length: 32 }, (_, i) => [Math.cos((i / 32) * 2 * Math.PI), aspect * Math.sin((i / 32) * 2 * Math.PI)] as [number, number]);
      break;
    case 2:
      pts = [
        [0, -1],
        [0.95, 0.75],
        [-0.95, 0.75],
      ];
      break;
    default:
      pts = [
        [0, -1],
        [0.65, 0],
        [0, 1],
        [-0.65, 0],
      ];
  }
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return pts.flatMap(([x, y]) => [cx + r * (x * c - y * s), cy + r * (x * s + y * c)]);
}

function maskStats(m: Uint8Array, w: number, h: number): { area: number; bbox: [number, number, number, number] } {
  let area = 0;
  let x0 = w,
    y0 = h,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (m[y * w + x]) {
        area++;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return { area, bbox: area ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : [0, 0, 0, 0] };
}

function polyBbox(p: number[], w: number, h: number): [number, number, number, number] {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < p.length; i += 2) {
    x0 = Math.min(x0, p[i]);
    x1 = Math.max(x1, p[i]);
    y0 = Math.min(y0, p[i + 1]);
    y1 = Math.max(y1, p[i + 1]);
  }
  x0 = Math.max(0, x0);
  y0 = Math.max(0, y0);
  x1 = Math.min(w, x1);
  y1 = Math.min(h, y1);
  const r = (v: number) => Math.round(v * 100) / 100;
  return [r(x0), r(y0), r(x1 - x0), r(y1 - y0)];
}

function background(rng: Rng, w: number, h: number): Uint8Array {
  const img = new Uint8Array(w * h * 3);
  const base = rng.uniform(80, 170);
  const tint = [rng.uniform(-12, 12), rng.uniform(-12, 12), rng.uniform(-12, 12)];
  const ang = rng.uniform(0, Math.PI);
  const freq = rng.uniform(0.05, 0.3);
  const amp = rng.uniform(8, 25);
  const ang2 = rng.uniform(0, Math.PI);
  const freq2 = rng.uniform(0.01, 0.05);
  const ca = Math.cos(ang),
    sa = Math.sin(ang),
    cb = Math.cos(ang2),
    sb = Math.sin(ang2);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v =
        base + amp * Math.sin((x * ca + y * sa) * freq) + 20 * Math.sin((x * cb + y * sb) * freq2) + rng.uniform(-10, 10);
      for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, v + tint[c]));
    }
  return img;
}

function paint(img: Uint8Array, mask: Uint8Array, w: number, h: number, rgb: [number, number, number], rng: Rng): void {
  const jit = rgb.map((c) => c + rng.uniform(-25, 25));
  const gx = rng.uniform(-0.4, 0.4);
  const gy = rng.uniform(-0.4, 0.4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!mask[y * w + x]) continue;
      const shade = 1 + (gx * (x - w / 2)) / w + (gy * (y - h / 2)) / h;
      const n = rng.uniform(-8, 8);
      for (let c = 0; c < 3; c++) img[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, jit[c] * shade + n));
    }
}

/** One scene, fully determined by `rng`'s state. */
export function makeScene(rng: Rng, opts: SceneOptions): Scene {
  const { width: w, height: h } = opts;
  const S = Math.min(w, h);
  const rgb = background(rng, w, h);
  const labels = new Uint8Array(w * h);
  const objects: SceneObject[] = [];
  const K = SHAPE_CATEGORIES.length;

  if (rng.next() < (opts.crowdProb ?? 0.15)) {
    const label = rng.int(0, K);
    const rw = S * rng.uniform(0.2, 0.35);
    const rx = rng.uniform(0, w - rw);
    const ry = rng.uniform(0, h - rw);
    const union = new Uint8Array(w * h);
    const n = rng.int(6, 13);
    for (let i = 0; i < n; i++) {
      const r = S * rng.uniform(0.025, 0.05);
      const poly = shapePolygon(label, rx + rng.uniform(0, rw), ry + rng.uniform(0, rw), r, rng.uniform(0.6, 1), rng.uniform(0, Math.PI));
      const m = segmentationToBitmap([poly], h, w);
      paint(rgb, m, w, h, SHAPE_CATEGORIES[label].rgb, rng);
      for (let p = 0; p < m.length; p++) if (m[p]) union[p] = 1;
    }
    const st = maskStats(union, w, h);
    if (st.area > 0) {
      for (let p = 0; p < union.length; p++) if (union[p]) labels[p] = label + 1;
      objects.push({ label, polygon: null, mask: union, bbox: st.bbox, area: st.area, iscrowd: true });
    }
  }

  const count = rng.int(1, (opts.maxObjects ?? 5) + 1);
  // Visible pixels per placed object, to cap occlusion.
  const owner = new Int16Array(w * h).fill(-1);
  for (let o = 0; o < count; o++) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const label = rng.int(0, K);
      const r = (S / 2) * Math.exp(rng.uniform(Math.log(0.12), Math.log(0.75)));
      const cx = rng.uniform(r * 0.6, w - r * 0.6);
      const cy = rng.uniform(r * 0.6, h - r * 0.6);
      const poly = shapePolygon(label, cx, cy, r, rng.uniform(0.5, 1), rng.uniform(0, Math.PI)).map((v) => Math.round(v * 100) / 100);
      const m = segmentationToBitmap([poly], h, w);
      const st = maskStats(m, w, h);
      if (st.area < 16) continue;
      const lost = new Map<number, number>();
      for (let p = 0; p < m.length; p++) if (m[p] && owner[p] >= 0) lost.set(owner[p], (lost.get(owner[p]) ?? 0) + 1);
      const tooMuch = [...lost].some(([k, n]) => n > 0.25 * objects[k].area || visible(owner, k) - n < 0.75 * objects[k].area);
      if (tooMuch) continue;
      paint(rgb, m, w, h, SHAPE_CATEGORIES[label].rgb, rng);
      const k = objects.length;
      for (let p = 0; p < m.length; p++)
        if (m[p]) {
          owner[p] = k;
          labels[p] = label + 1;
        }
      objects.push({ label, polygon: poly, mask: m, bbox: polyBbox(poly, w, h), area: st.area, iscrowd: false });
      break;
    }
  }
  return { width: w, height: h, rgb, objects, labels };
}

function visible(owner: Int16Array, k: number): number {
  let n = 0;
  for (let p = 0; p < owner.length; p++) if (owner[p] === k) n++;
  return n;
}
