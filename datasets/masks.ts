/**
 * COCO segmentation -> bitmap (row-major HxW Uint8Array of 0/1).
 * Local version: evaluation/ had no mask utilities when this was written. The polygon
 * rasteriser follows pycocotools' frPoly rule (coordinates x5, rounded with (int)(v+0.5),
 * crossings on pixel centres, y clamped to [0,h] then ceil) so masks match the COCO API.
 */

export interface Rle {
  size: [number, number]; // [h, w]
  counts: number[] | string;
}

export type Polygon = number[]; // [x1, y1, x2, y2, ...]
export type Segmentation = Polygon[] | Rle;

/** Decodes a compressed RLE string (LEB128-like 5-bit groups, deltas from index 3). */
export function rleStringToCounts(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new Error('truncated RLE string');
      const c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k); // sign-extend
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** Column-major run-length counts (starting with zeros) of a row-major HxW bitmap. */
export function bitmapToCounts(mask: Uint8Array, h: number, w: number): number[] {
  const counts: number[] = [];
  let cur = 0;
  let run = 0;
  for (let x = 0; x < w; x++)
    for (let y = 0; y < h; y++) {
      const v = mask[y * w + x] ? 1 : 0;
      if (v !== cur) {
        counts.push(run);
        run = 0;
        cur = v;
      }
      run++;
    }
  counts.push(run);
  return counts;
}

/** Paints column-major runs into `out` (row-major), OR-ing with what is there. */
function paintCounts(counts: ArrayLike<number>, h: number, w: number, out: Uint8Array): void {
  let pos = 0;
  const total = h * w;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (i % 2 === 1) {
      const end = Math.min(pos + n, total);
      for (let q = pos; q < end; q++) {
        const x = Math.floor(q / h);
        out[(q - x * h) * w + x] = 1;
      }
    }
    pos += n;
  }
}

/** pycocotools' polygon -> RLE counts (frPoly). */
export function polygonToCounts(xy: ArrayLike<number>, h: number, w: number): number[] {
  const scale = 5;
  const k = Math.floor(xy.length / 2);
  const x: number[] = new Array(k + 1);
  const y: number[] = new Array(k + 1);
  for (let j = 0; j < k; j++) {
    x[j] = Math.trunc(scale * xy[j * 2] + 0.5);
    y[j] = Math.trunc(scale * xy[j * 2 + 1] + 0.5);
  }
  x[k] = x[0];
  y[k] = y[0];
  // Dense boundary points in the x5 grid.
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j],
      xe = x[j + 1],
      ys = y[j],
      ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  // Crossings on pixel centres, downsampled to the image grid.
  const a: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = Math.min(v[j], v[j - 1]);
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a.push(Math.trunc(xd) * h + yd);
  }
  a.push(h * w);
  a.sort((p, q) => p - q);
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] -= prev;
    prev = t;
  }
  const b: number[] = [];
  let j = 0;
  b.push(a[j++]);
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return b;
}

/** Any COCO segmentation (polygons, uncompressed or compressed RLE) -> HxW bitmap. */
export function segmentationToBitmap(seg: Segmentation, h: number, w: number): Uint8Array {
  const out = new Uint8Array(h * w);
  if (Array.isArray(seg)) {
    for (const poly of seg) paintCounts(polygonToCounts(poly, h, w), h, w, out);
    return out;
  }
  const [rh, rw] = seg.size;
  if (rh !== h || rw !== w) throw new Error(`RLE size [${rh}, ${rw}] differs from image size [${h}, ${w}]`);
  const counts = typeof seg.counts === 'string' ? rleStringToCounts(seg.counts) : seg.counts;
  paintCounts(counts, h, w, out);
  return out;
}
