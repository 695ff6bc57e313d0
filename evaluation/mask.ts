// COCO mask utilities: run-length encoding (RLE) of binary masks with pycocotools' exact semantics
// (maskApi.c behaviour, written from shared/notes/cocoeval_facts.md and the fixture vectors).
//
// A mask is h×w; RLE counts are runs over the column-major flattening and always start with a
// (possibly empty) run of zeros.

import { EvalInputError, RleCountsError } from './errors';

/** Internal RLE: counts as a typed array. */
export interface Rle {
  h: number;
  w: number;
  counts: Uint32Array;
}

/** The JSON form used by COCO files: compressed string counts, or a plain integer list (uncompressed). */
export interface RleObject {
  size: [number, number];
  counts: string | number[];
}

export type Bbox = [number, number, number, number];

/** Encodes a column-major 0/1 mask (index = x*h + y). */
export function encode(mask: ArrayLike<number>, h: number, w: number): Rle {
  const n = h * w;
  const out: number[] = [];
  let prev = 0;
  let run = 0;
  for (let j = 0; j < n; j++) {
    const v = mask[j] ? 1 : 0;
    if (v !== prev) {
      out.push(run);
      run = 0;
      prev = v;
    }
    run++;
  }
  out.push(run);
  return { h, w, counts: Uint32Array.from(out) };
}

/** Decodes to a column-major Uint8Array of 0/1. */
export function decode(rle: Rle): Uint8Array {
  const mask = new Uint8Array(rle.h * rle.w);
  let pos = 0;
  let v = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const c = rle.counts[i];
    if (v) mask.fill(1, pos, pos + c);
    pos += c;
    v ^= 1;
  }
  return mask;
}

/** Row-major 0/1 mask view (index = y*w + x), convenient for images. */
export function decodeRowMajor(rle: Rle): Uint8Array {
  const col = decode(rle);
  const out = new Uint8Array(rle.h * rle.w);
  for (let x = 0; x < rle.w; x++) for (let y = 0; y < rle.h; y++) out[y * rle.w + x] = col[x * rle.h + y];
  return out;
}

/**
 * Compressed string form: from index 3 on each count is stored as its difference to the count two
 * places earlier; every value is written as signed little-endian 5-bit groups (0x20 = more follow,
 * 0x10 of the last group = sign), each char = group + 48.
 */
export function countsToString(counts: ArrayLike<number>): string {
  const parts: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    // Counts fit in 32 bits and so do their differences, so int32 shifts are exact.
    let x = counts[i] | 0;
    if (i > 2) x = (x - (counts[i - 2] | 0)) | 0;
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      parts.push(c + 48);
    }
  }
  let s = '';
  // Chunked to stay below the argument-count limit of fromCharCode.
  for (let i = 0; i < parts.length; i += 8192) s += String.fromCharCode(...parts.slice(i, i + 8192));
  return s;
}

const scratch = { buf: new Uint32Array(1024) };

/** Parses a compressed counts string into a new array. */
export function countsFromString(s: string): Uint32Array {
  return countsFromStringView(s).slice();
}

/**
 * Parses a compressed counts string into a shared scratch buffer and returns a view on it: valid
 * only until the next call (saves an allocation when only area/bbox are needed).
 */
export function countsFromStringView(s: string): Uint32Array {
  if (scratch.buf.length < s.length) scratch.buf = new Uint32Array(s.length * 2);
  const m = countsFromStringInto(s, scratch.buf, 0);
  return scratch.buf.subarray(0, m);
}

/**
 * Parses a compressed counts string into `out` from `offset` (which needs room for s.length values,
 * the most a string can hold) and returns the number of counts.
 */
export function countsFromStringInto(s: string, out: Uint32Array, offset: number): number {
  const len = s.length;
  let m = 0;
  let p = 0;
  while (p < len) {
    let x = 0;
    let mul = 1;
    let more = true;
    let c = 0;
    while (more) {
      if (p >= len) throw new EvalInputError('RLE counts string ends inside a value');
      c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * mul;
      mul *= 32;
      more = (c & 0x20) !== 0;
      p++;
    }
    // Sign-extend from the last group (two's complement over 5k bits).
    if (c & 0x10) x -= mul;
    if (m > 2) x += out[offset + m - 2];
    out[offset + m++] = x;
  }
  return m;
}

export function toObject(rle: Rle): RleObject {
  return { size: [rle.h, rle.w], counts: countsToString(rle.counts) };
}

/** Reads an RLE object; string counts are decoded, list counts are taken as they are. */
export function fromObject(obj: RleObject): Rle {
  const [h, w] = obj.size;
  const counts = typeof obj.counts === 'string' ? countsFromString(obj.counts) : Uint32Array.from(obj.counts);
  return { h, w, counts };
}

export function area(rle: Rle): number {
  let a = 0;
  const c = rle.counts;
  for (let i = 1; i < c.length; i += 2) a += c[i];
  return a;
}

/** [x, y, w, h] of the set pixels; a run of ones spanning columns makes y span the full height. */
export function toBbox(rle: Rle): Bbox {
  const { h } = rle;
  const c = rle.counts;
  const m = c.length - (c.length % 2);
  if (m === 0) return [0, 0, 0, 0];
  let xs = rle.w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc += c[j];
    const t = cc - (j % 2);
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/**
 * Throws RleCountsError when one run list is used up (its count 0, nothing left to load) while the
 * other still has pixels: pycocotools' C loops (rleMerge, rleIou) spin forever there. Called only
 * when the smaller current count is 0, so the check costs nothing on well-formed masks.
 */
function stalled(ca: number, a: number, ka: number, cb: number, b: number, kb: number): void {
  const aOut = ca === 0 && a >= ka && cb > 0;
  const bOut = cb === 0 && b >= kb && ca > 0;
  if (aOut || bOut) throw new RleCountsError('RLE counts do not sum to size[0]*size[1] (pycocotools loops forever on this mask)', aOut ? 'a' : 'b');
}

/** Union (intersect=false) or intersection of equally sized RLEs; a size mismatch gives an empty 0×0 RLE. */
export function merge(rles: Rle[], intersect = false): Rle {
  if (rles.length === 0) return { h: 0, w: 0, counts: new Uint32Array(0) };
  const { h, w } = rles[0];
  if (rles.length === 1) return { h, w, counts: rles[0].counts.slice() };
  let A = rles[0].counts;
  for (let i = 1; i < rles.length; i++) {
    const B = rles[i];
    if (B.h !== h || B.w !== w) return { h: 0, w: 0, counts: new Uint32Array(0) };
    const Bc = B.counts;
    const out = new Uint32Array(A.length + Bc.length);
    let m = 0;
    let ca = A[0];
    let cb = Bc[0];
    let va = 0;
    let vb = 0;
    let v = 0;
    let a = 1;
    let b = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      if (c === 0) stalled(ca, a, A.length, cb, b, Bc.length);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++];
        va ^= 1;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < Bc.length) {
        cb = Bc[b++];
        vb ^= 1;
      }
      ct += cb;
      const vp = v;
      v = intersect ? va & vb : va | vb;
      if (v !== vp || ct === 0) {
        out[m++] = cc;
        cc = 0;
      }
    }
    A = out.slice(0, m);
  }
  return { h, w, counts: A };
}

const polyScratch = { u: new Int32Array(4096), v: new Int32Array(4096), a: new Float64Array(4096), b: new Uint32Array(4096) };

function growPolyScratch(m: number): void {
  if (polyScratch.u.length >= m) return;
  const n = m * 2;
  polyScratch.u = new Int32Array(n);
  polyScratch.v = new Int32Array(n);
  polyScratch.a = new Float64Array(n);
  polyScratch.b = new Uint32Array(n);
}

/** Rasterises one polygon [x0,y0,x1,y1,...] exactly as pycocotools' rleFrPoly (5× upsampled edges). */
export function frPoly(xy: ArrayLike<number>, h: number, w: number): Rle {
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) {
    x[j] = Math.trunc(scale * xy[2 * j] + 0.5);
    y[j] = Math.trunc(scale * xy[2 * j + 1] + 0.5);
  }
  x[k] = x[0];
  y[k] = y[0];
  // Dense boundary points along every edge.
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  growPolyScratch(m + 1);
  const { u, v } = polyScratch;
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    // A zero-length edge gives 0/0; its single point shares u with its neighbours so v is never read.
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5);
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5);
        m++;
      }
    }
  }
  // Keep the x-crossings on pixel centres, downsampled back to pixel units, as linear indices.
  const a = polyScratch.a;
  let n = 0;
  for (let j = 1; j < m; j++) {
    if (u[j] !== u[j - 1]) {
      let xd = u[j] < u[j - 1] ? u[j] : u[j - 1];
      xd = (xd + 0.5) / scale - 0.5;
      if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
      let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
      yd = (yd + 0.5) / scale - 0.5;
      if (yd < 0) yd = 0;
      else if (yd > h) yd = h;
      yd = Math.ceil(yd);
      a[n++] = xd * h + yd;
    }
  }
  // Sorted boundary indices → run lengths (empty runs merged into their neighbours).
  a[n] = h * w;
  const sorted = a.subarray(0, n + 1).sort();
  let prev = 0;
  for (let j = 0; j <= n; j++) {
    const t = sorted[j];
    sorted[j] -= prev;
    prev = t;
  }
  const b = polyScratch.b;
  let nb = 0;
  let j = 0;
  b[nb++] = sorted[j++];
  while (j <= n) {
    if (sorted[j] > 0) b[nb++] = sorted[j++];
    else {
      j++;
      if (j <= n) b[nb - 1] += sorted[j++];
    }
  }
  return { h, w, counts: b.slice(0, nb) };
}

/** A box [x,y,w,h] rasterised as a 4-point polygon. */
export function frBbox(bb: ArrayLike<number>, h: number, w: number): Rle {
  const xs = bb[0];
  const ys = bb[1];
  const xe = xs + bb[2];
  const ye = ys + bb[3];
  return frPoly([xs, ys, xs, ye, xe, ye, xe, ys], h, w);
}

/** An uncompressed RLE object (integer counts); its own `size` is used, not the image size. */
export function frUncompressed(obj: RleObject): Rle {
  if (typeof obj.counts === 'string') return fromObject(obj);
  return { h: obj.size[0], w: obj.size[1], counts: Uint32Array.from(obj.counts) };
}

function isRleObject(o: unknown): o is RleObject {
  return typeof o === 'object' && o !== null && !Array.isArray(o) && 'counts' in o && 'size' in o;
}

/** Boxes [x,y,w,h] rasterised one by one (pycocotools frBbox on an N x 4 array): explicit box input only. */
export function frBboxes(boxes: ArrayLike<number>[], h: number, w: number): Rle[] {
  return boxes.map((bb, i) => {
    if (bb.length !== 4) throw new EvalInputError(`box ${i} has ${bb.length} numbers; a box is [x, y, w, h]`);
    return frBbox(bb, h, w);
  });
}

/**
 * Checks one polygon [x0,y0,x1,y1,...]: at least 3 points (6 numbers) and an even count. This is
 * mmdetection's training rule (LoadAnnotations keeps only such polygons); evaluation follows
 * pycocotools instead (`checkPolygonList`), which accepts odd and short polygons after the first.
 */
export function polygonProblem(p: unknown): string | null {
  if (!Array.isArray(p)) return 'is not a list of numbers';
  if (p.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return 'holds a value that is not a finite number';
  if (p.length % 2 !== 0) return `has an odd count of numbers (${p.length}); a polygon is [x0, y0, x1, y1, ...]`;
  if (p.length < 6) return `has ${p.length} numbers; a polygon needs at least 3 points (6 numbers)`;
  return null;
}

/** What pycocotools' frPyObjects makes of a list of polygons (a COCO `segmentation` list). */
export interface PolygonListCheck {
  /** pycocotools raises on the list (or would read it as boxes): why, naming the polygon. */
  error: string | null;
  /** Some polygon has an odd count of numbers: rasterised from its first floor(n/2) points (the last value is unused). */
  odd: boolean;
  /** Some polygon has fewer than 6 numbers (after the first): rasterised from its 0-2 points as given. */
  short: boolean;
}

/**
 * pycocotools' frPyObjects on a list of polygons: the list goes to frPoly only when the first
 * polygon has more than 4 numbers (exactly 4 is taken for boxes, fewer raises), and frPoly then
 * rasterises every polygon from its first floor(n/2) points (`rleFrPoly(..., len(p)//2, ...)`), so an
 * odd count or a later polygon of 0-2 points is accepted as given. Values that are not finite numbers
 * are refused here (numpy would fail on strings; NaN has no defined rounding in C).
 */
export function checkPolygonList(polys: readonly unknown[]): PolygonListCheck {
  const out: PolygonListCheck = { error: null, odd: false, short: false };
  for (let i = 0; i < polys.length; i++) {
    const p = polys[i];
    if (!Array.isArray(p)) return { ...out, error: `polygon ${i} is not a list of numbers` };
    if (p.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return { ...out, error: `polygon ${i} holds a value that is not a finite number` };
    if (i === 0 && p.length <= 4) return { ...out, error: `polygon 0 has ${p.length} numbers; a polygon needs at least 3 points (6 numbers)` };
    if (p.length % 2 !== 0) out.odd = true;
    if (p.length < 6) out.short = true;
  }
  return out;
}

/**
 * pycocotools frPyObjects for the JSON kinds of a `segmentation` field: a list of polygons (one RLE
 * each), a list of uncompressed RLE dicts, a flat polygon (one RLE) or one uncompressed RLE dict.
 * A list of lists is always polygons here, whatever the length of the first one: boxes come only
 * through `frBboxes` (pycocotools takes boxes as an N x 4 ndarray, which JSON never holds).
 * Polygon lists follow `checkPolygonList` (odd counts and short later polygons are rasterised as
 * pycocotools does); throws EvalInputError naming the polygon where pycocotools raises. A flat
 * polygon needs an even count of at least 6 numbers (pycocotools raises on any flat list).
 */
export function frPyObjects(obj: unknown, h: number, w: number): Rle | Rle[] {
  if (Array.isArray(obj)) {
    if (obj.length === 0) return [];
    const first = obj[0];
    if (Array.isArray(first)) {
      const check = checkPolygonList(obj);
      if (check.error) throw new EvalInputError(check.error);
      return obj.map((p) => frPoly(p as number[], h, w));
    }
    if (isRleObject(first)) return obj.map((o) => frUncompressed(o as RleObject));
    if (typeof first === 'number') {
      if (obj.length === 4) throw new EvalInputError('a single flat box [x,y,w,h] is not accepted; pass a list of boxes');
      const bad = polygonProblem(obj);
      if (bad) throw new EvalInputError(`polygon ${bad}`);
      return frPoly(obj as number[], h, w);
    }
  } else if (isRleObject(obj)) {
    return frUncompressed(obj);
  }
  throw new EvalInputError('segmentation input type is not supported (expected polygons or an RLE)');
}

/**
 * The sum of an RLE object's counts (a compressed string is decoded) and the pixel count its
 * `size` [h, w] asks for; pycocotools never checks that they agree. Throws EvalInputError for a
 * counts string that ends inside a value or a list count that is not a non-negative integer.
 */
export function rleCountsSum(obj: RleObject): { sum: number; expected: number } {
  const counts: ArrayLike<unknown> = typeof obj.counts === 'string' ? countsFromStringView(obj.counts) : obj.counts;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw new EvalInputError(`counts[${i}] is ${JSON.stringify(c)}, not a count`);
    sum += c;
  }
  return { sum, expected: obj.size[0] * obj.size[1] };
}

/** Box IoU matrix [D][G] (row-major Float64Array, D*G); crowd GT use the detection area as union. */
export function iouBbox(dt: ArrayLike<number>[], gt: ArrayLike<number>[], iscrowd: ArrayLike<number>): Float64Array {
  const D = dt.length;
  const G = gt.length;
  const o = new Float64Array(D * G);
  for (let g = 0; g < G; g++) {
    const gb = gt[g];
    const ga = gb[2] * gb[3];
    const crowd = iscrowd[g] ? true : false;
    for (let d = 0; d < D; d++) {
      const db = dt[d];
      const iw = Math.min(db[2] + db[0], gb[2] + gb[0]) - Math.max(db[0], gb[0]);
      if (iw <= 0) continue;
      const ih = Math.min(db[3] + db[1], gb[3] + gb[1]) - Math.max(db[1], gb[1]);
      if (ih <= 0) continue;
      const i = iw * ih;
      const da = db[2] * db[3];
      o[d * G + g] = i / (crowd ? da : da + ga - i);
    }
  }
  return o;
}

/**
 * Mask IoU matrix [D][G]; -1 where sizes differ (after a box pre-check), crowd: inter/area(dt).
 * Throws RleCountsError (with `at` holding the detection and GT index) for a pair pycocotools never
 * finishes: masks of one size whose counts do not both sum to h*w.
 */
export function iouRle(dt: Rle[], gt: Rle[], iscrowd: ArrayLike<number>): Float64Array {
  const D = dt.length;
  const G = gt.length;
  const o = iouBbox(dt.map(toBbox), gt.map(toBbox), iscrowd);
  let g = 0;
  let d = 0;
  try {
    for (g = 0; g < G; g++) {
      const B = gt[g];
      const crowd = iscrowd[g] ? true : false;
      for (d = 0; d < D; d++) {
        const idx = d * G + g;
        if (!(o[idx] > 0)) continue;
        const A = dt[d];
        if (A.h !== B.h || A.w !== B.w) {
          o[idx] = -1;
          continue;
        }
        o[idx] = rlePairIou(A.counts, B.counts, crowd);
      }
    }
  } catch (e) {
    if (e instanceof RleCountsError) throw new RleCountsError(e.message, e.which, { dt: d, gt: g });
    throw e;
  }
  return o;
}

/** IoU of two equally sized RLEs by walking both run lists once. */
export function rlePairIou(ac: Uint32Array, bc: Uint32Array, crowd: boolean): number {
  const ka = ac.length;
  const kb = bc.length;
  let ca = ac[0];
  let cb = bc[0];
  let va = 0;
  let vb = 0;
  let a = 1;
  let b = 1;
  let u = 0;
  let inter = 0;
  let ct = 1;
  while (ct > 0) {
    const c = ca < cb ? ca : cb;
    // c is 0 only at a leading or inner empty run, or when one list has run out (a stall).
    if (c === 0) stalled(ca, a, ka, cb, b, kb);
    if (va || vb) {
      u += c;
      if (va && vb) inter += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) {
      ca = ac[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < kb) {
      cb = bc[b++];
      vb ^= 1;
    }
    ct += cb;
  }
  if (inter === 0) u = 1;
  else if (crowd) {
    u = 0;
    for (let i = 1; i < ka; i += 2) u += ac[i];
  }
  return inter / u;
}
