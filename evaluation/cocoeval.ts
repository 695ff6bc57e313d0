// COCOeval for bbox and segm with pycocotools' exact matching, accumulation and summary.
// Facts: shared/notes/cocoeval_facts.md. Arrays follow numpy's C order so that the means, taken
// with numpy's pairwise summation, are bit-identical.

import { COCO, type CocoAnnotation } from './coco';
import { EvalInputError, RleCountsError } from './errors';
import * as mask from './mask';
import type { Rle, RleObject } from './mask';
import { pairwiseSum, pyFixed } from './numeric';

export type IouType = 'bbox' | 'segm';

/** np.linspace(0.5, 0.95, 10): i*step + start, with the last value exactly the stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

export class Params {
  imgIds: number[] = [];
  catIds: number[] = [];
  iouThrs = linspace(0.5, 0.95, 10);
  recThrs = linspace(0, 1, 101);
  maxDets = [1, 10, 100];
  areaRng: [number, number][] = [
    [0, 1e10],
    [0, 32 * 32],
    [32 * 32, 96 * 96],
    [96 * 96, 1e10],
  ];
  areaRngLbl = ['all', 'small', 'medium', 'large'];
  useCats = true;
  constructor(public iouType: IouType = 'bbox') {}
}

/** Per (category, area range, image) result; detections are score-sorted and capped at maxDet. */
export interface EvalImg {
  imageId: number;
  categoryId: number;
  aRng: [number, number];
  maxDet: number;
  dtIds: Float64Array;
  dtScores: Float64Array;
  /** Number of GT that are not ignored in this area range. */
  npig: number;
  /**
   * [T][D] flags: MATCHED when pycocotools' dtMatches is non-zero (the matched GT id), IGNORED when
   * its dtIgnore is set. Kept as bytes: the full id matrix would cost 8x the memory.
   */
  dtState: Uint8Array;
}

export const MATCHED = 1;
export const IGNORED = 2;

export interface EvalResult {
  /** [T][R][K][A][M], -1 where there is no GT. */
  precision: Float64Array;
  /** [T][K][A][M]. */
  recall: Float64Array;
  /** [T, R, K, A, M]. */
  counts: [number, number, number, number, number];
}

interface Cell {
  imgIdx: number;
  imageId: number;
  categoryId: number;
  gts: CocoAnnotation[];
  dts: CocoAnnotation[];
}

interface PreparedCell {
  imageId: number;
  categoryId: number;
  gtIds: Float64Array;
  gtArea: Float64Array;
  gtCrowd: Uint8Array;
  gtIgnoreFlag: Uint8Array;
  dtIds: Float64Array;
  dtScores: Float64Array;
  dtArea: Float64Array;
  /** [D][G], gt in original order; empty when D or G is 0. */
  ious: Float64Array;
}

const EPS = 2 ** -52; // np.spacing(1)

export class COCOeval {
  params: Params;
  /** evalImgs[k][a] lists the non-empty (image, category) pairs of category k in ascending image id. */
  evalImgs: EvalImg[][][] = [];
  eval: EvalResult | null = null;
  stats: number[] = [];
  private paramsEval: Params | null = null;

  constructor(
    public cocoGt: COCO,
    public cocoDt: COCO,
    iouType: IouType = 'bbox',
  ) {
    if (iouType !== 'bbox' && iouType !== 'segm') throw new EvalInputError(`iouType must be 'bbox' or 'segm', got '${iouType}'`);
    this.params = new Params(iouType);
    this.params.imgIds = cocoGt.getImgIds().sort((a, b) => a - b);
    this.params.catIds = cocoGt.getCatIds().sort((a, b) => a - b);
  }

  /**
   * Per-image matching for every (category, area range, image). `onProgress(done, total)` is called
   * after each category with the (category, image) cells matched so far (tools/coco_eval's bar).
   */
  evaluate(onProgress?: (done: number, total: number) => void): void {
    const p = this.params;
    p.imgIds = uniqueSorted(p.imgIds);
    if (p.useCats) p.catIds = uniqueSorted(p.catIds);
    p.maxDets = [...p.maxDets].sort((a, b) => a - b);
    const catIds = p.useCats ? p.catIds : [-1];
    const cells = this.prepare(catIds);
    const maxDet = p.maxDets[p.maxDets.length - 1];
    const total = cells.reduce((a, l) => a + l.length, 0);
    let done = 0;
    // IoU matrices live only while their cell is matched, to keep memory flat.
    this.evalImgs = cells.map((list) => {
      const perArea: EvalImg[][] = p.areaRng.map(() => []);
      for (const cell of list) {
        const pc = this.prepareCell(cell, maxDet);
        // One allocation per pair for the match states of every area range.
        const TD = p.iouThrs.length * pc.dtIds.length;
        const states = new Uint8Array(TD * p.areaRng.length);
        p.areaRng.forEach((aRng, a) => perArea[a].push(this.evaluateCell(pc, aRng, maxDet, states.subarray(a * TD, (a + 1) * TD))));
      }
      done += list.length;
      onProgress?.(done, total);
      return perArea;
    });
    this.paramsEval = structuredCloneParams(p);
  }

  /** Groups GT and detections per (category, image), as pycocotools' _prepare. */
  private prepare(catIds: number[]): Cell[][] {
    const p = this.params;
    const imgIdx = new Map<number, number>();
    p.imgIds.forEach((id, i) => imgIdx.set(id, i));
    const catIdx = new Map<number, number>();
    catIds.forEach((id, i) => catIdx.set(id, i));
    const sel = p.useCats ? { imgIds: p.imgIds, catIds: p.catIds } : { imgIds: p.imgIds };
    const gts = this.cocoGt.loadAnns(this.cocoGt.getAnnIds(sel));
    const dts = this.cocoDt.loadAnns(this.cocoDt.getAnnIds(sel));
    const cellMaps = catIds.map(() => new Map<number, Cell>());
    const add = (ann: CocoAnnotation, isGt: boolean) => {
      const i = imgIdx.get(ann.image_id);
      const k = p.useCats ? catIdx.get(ann.category_id) : 0;
      if (i === undefined || k === undefined) return;
      let cell = cellMaps[k].get(i);
      if (!cell) {
        cell = { imgIdx: i, imageId: ann.image_id, categoryId: catIds[k], gts: [], dts: [] };
        cellMaps[k].set(i, cell);
      }
      (isGt ? cell.gts : cell.dts).push(ann);
    };
    for (const g of gts) {
      this.checkGt(g);
      add(g, true);
    }
    for (const d of dts) {
      this.checkDt(d);
      add(d, false);
    }
    return cellMaps.map((m) => [...m.values()].sort((a, b) => a.imgIdx - b.imgIdx));
  }

  private checkGt(g: CocoAnnotation): void {
    const name = `${this.cocoGt.source}: annotation id ${g.id}`;
    if (typeof g.area !== 'number') throw new EvalInputError(`${name}: ${'area' in g ? "field 'area' must be a number" : "missing field 'area'"}`);
    if (!('iscrowd' in g)) throw new EvalInputError(`${name}: missing field 'iscrowd'`);
    if (this.params.iouType === 'bbox') checkBox(g.bbox, name, 'bbox' in g);
    else if (!('segmentation' in g)) throw new EvalInputError(`${name}: missing field 'segmentation'`);
  }

  private checkDt(d: CocoAnnotation): void {
    const name = `${this.cocoDt.source}: result #${d.id - 1} (image_id ${d.image_id})`;
    if (typeof d.score !== 'number') throw new EvalInputError(`${name}: ${'score' in d ? "field 'score' must be a number" : "missing field 'score'"}`);
    if (this.params.iouType === 'bbox') checkBox(d.bbox, name, 'bbox' in d);
    else if (!('segmentation' in d) && this.cocoDt.resultType !== 'bbox') throw new EvalInputError(`${name}: missing field 'segmentation'`);
  }

  /** Sorts detections by score (stable), caps them, and computes the [D][G] IoU matrix. */
  private prepareCell(c: Cell, maxDet: number): PreparedCell {
    const order = stableArgsortDesc(c.dts.map((d) => d.score as number));
    const dts = order.slice(0, maxDet).map((i) => c.dts[i]);
    const G = c.gts.length;
    const D = dts.length;
    const gtCrowd = Uint8Array.from(c.gts, (g) => (Number(g.iscrowd) ? 1 : 0));
    let ious: Float64Array;
    if (G === 0 || D === 0) ious = new Float64Array(0);
    else if (this.params.iouType === 'bbox') {
      ious = mask.iouBbox(
        dts.map((d) => d.bbox as number[]),
        c.gts.map((g) => g.bbox as number[]),
        gtCrowd,
      );
    } else {
      countsPool.used = 0;
      const dr: Rle[] = dts.map((d) => this.dtRle(d));
      const gr: Rle[] = c.gts.map((g) => this.cocoGt.annToRLE(g));
      try {
        ious = mask.iouRle(dr, gr, gtCrowd);
      } catch (e) {
        if (!(e instanceof RleCountsError)) throw e;
        throw this.shortRleError(e, dts, c.gts, dr, gr);
      }
    }
    return {
      imageId: c.imageId,
      categoryId: c.categoryId,
      gtIds: Float64Array.from(c.gts, (g) => g.id),
      gtArea: Float64Array.from(c.gts, (g) => g.area as number),
      gtCrowd,
      // pycocotools sets ignore = iscrowd, overwriting any 'ignore' key of the GT.
      gtIgnoreFlag: gtCrowd,
      dtIds: Float64Array.from(dts, (d) => d.id),
      dtScores: Float64Array.from(dts, (d) => d.score as number),
      dtArea: Float64Array.from(dts, (d) => d.area as number),
      ious,
    };
  }

  /** Names the annotation or result row whose RLE counts stopped the IoU loop (see mask.iouRle). */
  private shortRleError(e: RleCountsError, dts: CocoAnnotation[], gts: CocoAnnotation[], dr: Rle[], gr: Rle[]): EvalInputError {
    const sumOf = (r: Rle) => {
      let s = 0;
      for (let i = 0; i < r.counts.length; i++) s += r.counts[i];
      return s;
    };
    const d = e.at.dt ?? 0;
    const g = e.at.gt ?? 0;
    // The pair has one size; the wrong mask is the one whose counts miss h*w (the detection if both do).
    const isDt = sumOf(dr[d]) !== dr[d].h * dr[d].w || sumOf(gr[g]) === gr[g].h * gr[g].w;
    const rle = isDt ? dr[d] : gr[g];
    const ann = isDt ? dts[d] : gts[g];
    const name = isDt ? `${this.cocoDt.source}: result #${ann.id - 1} (image_id ${ann.image_id})` : `${this.cocoGt.source}: annotation id ${ann.id}`;
    return new EvalInputError(
      `${name}: field 'segmentation': RLE counts sum to ${sumOf(rle)}, expected size[0]*size[1] = ${rle.h * rle.w} (pycocotools never finishes the IoU of this mask with an overlapping one)`,
    );
  }

  /**
   * A detection's mask. Compressed strings are decoded into a pool reused across pairs: one
   * allocation per detection made the garbage collector the largest cost of segm evaluation.
   */
  private dtRle(d: CocoAnnotation): Rle {
    const s = d.segmentation as RleObject | undefined;
    if (s && !Array.isArray(s) && typeof s.counts === 'string' && Array.isArray(s.size) && this.cocoDt.imgs.has(d.image_id)) {
      const need = countsPool.used + s.counts.length;
      if (countsPool.buf.length < need) {
        // Views handed out earlier keep the old buffer alive, so growing here is safe.
        countsPool.buf = new Uint32Array(Math.max(need, countsPool.buf.length * 2));
        countsPool.used = 0;
      }
      const start = countsPool.used;
      const n = mask.countsFromStringInto(s.counts, countsPool.buf, start);
      countsPool.used += n;
      return { h: s.size[0], w: s.size[1], counts: countsPool.buf.subarray(start, start + n) };
    }
    return this.cocoDt.annToRLE(d);
  }

  /**
   * Greedy matching for one area range at every IoU threshold (pycocotools' evaluateImg). `state`
   * is the [T][D] byte matrix to fill (zeroed).
   */
  private evaluateCell(c: PreparedCell, aRng: [number, number], maxDet: number, state: Uint8Array): EvalImg {
    const thrs = this.params.iouThrs;
    const T = thrs.length;
    const G = c.gtIds.length;
    const D = c.dtIds.length;
    const [lo, hi] = aRng;
    const s = scratchFor(G);
    const ig = s.ig;
    let npig = 0;
    for (let g = 0; g < G; g++) {
      ig[g] = c.gtIgnoreFlag[g] || c.gtArea[g] < lo || c.gtArea[g] > hi ? 1 : 0;
      if (!ig[g]) npig++;
    }
    // Stable order: non-ignored GT first.
    const { gtind, gtIgnore, crowd, gtMatched } = s;
    let n = 0;
    for (let g = 0; g < G; g++) if (!ig[g]) gtind[n++] = g;
    for (let g = 0; g < G; g++) if (ig[g]) gtind[n++] = g;
    for (let j = 0; j < G; j++) {
      gtIgnore[j] = ig[gtind[j]];
      crowd[j] = c.gtCrowd[gtind[j]];
    }
    const ious = c.ious;
    if (ious.length > 0) {
      for (let t = 0; t < T; t++) {
        gtMatched.fill(0, 0, G);
        const thr = thrs[t];
        for (let d = 0; d < D; d++) {
          let best = Math.min(thr, 1 - 1e-10);
          let m = -1;
          const row = d * G;
          for (let j = 0; j < G; j++) {
            if (gtMatched[j] && !crowd[j]) continue;
            if (m > -1 && gtIgnore[m] === 0 && gtIgnore[j] === 1) break;
            const iou = ious[row + gtind[j]];
            if (iou < best) continue;
            best = iou;
            m = j;
          }
          if (m === -1) continue;
          // dtMatches holds the GT id, so a GT with id 0 reads as "unmatched" downstream, as in pycocotools.
          const gid = c.gtIds[gtind[m]];
          state[t * D + d] = (gid !== 0 ? MATCHED : 0) | (gtIgnore[m] ? IGNORED : 0);
          gtMatched[m] = 1;
        }
      }
    }
    // Unmatched detections outside the area range are ignored.
    for (let d = 0; d < D; d++) {
      if (!(c.dtArea[d] < lo || c.dtArea[d] > hi)) continue;
      for (let t = 0; t < T; t++) if (!(state[t * D + d] & MATCHED)) state[t * D + d] |= IGNORED;
    }
    return { imageId: c.imageId, categoryId: c.categoryId, aRng, maxDet, dtIds: c.dtIds, dtScores: c.dtScores, npig, dtState: state };
  }

  /** Precision/recall curves per (threshold, category, area range, maxDets). */
  accumulate(): void {
    if (!this.paramsEval) throw new Error('accumulate() needs evaluate() first');
    const p = this.params;
    const T = p.iouThrs.length;
    const R = p.recThrs.length;
    const K = p.useCats ? p.catIds.length : 1;
    const A = p.areaRng.length;
    const M = p.maxDets.length;
    const precision = new Float64Array(T * R * K * A * M).fill(-1);
    const recall = new Float64Array(T * K * A * M).fill(-1);
    const recThrs = p.recThrs;
    for (let k = 0; k < this.evalImgs.length; k++) {
      const perArea = this.evalImgs[k];
      if (perArea.length === 0 || perArea[0].length === 0) continue;
      const E0 = perArea[0];
      // Detections of all images in ascending image order, each image's list already score-sorted.
      let total = 0;
      for (const e of E0) total += e.dtScores.length;
      const scores = new Float64Array(total);
      const rank = new Int32Array(total);
      const which = new Int32Array(total);
      const col = new Int32Array(total);
      let n = 0;
      E0.forEach((e, ei) => {
        for (let d = 0; d < e.dtScores.length; d++) {
          scores[n] = e.dtScores[d];
          rank[n] = d;
          which[n] = ei;
          col[n] = d;
          n++;
        }
      });
      // Stable sort by descending score (numpy mergesort on -score). The order of a maxDet-capped
      // subset is the same order restricted to it, so one sort serves every maxDets value.
      const order = stableArgsortDesc(scores);
      const sortedRank = Int32Array.from(order, (i) => rank[i]);
      // Per area range: the match state of every detection in sorted order, [T][total].
      const st = new Uint8Array(T * total);
      const sel = new Int32Array(total);
      const rc = new Float64Array(total);
      const pr = new Float64Array(total);
      for (let a = 0; a < A; a++) {
        const E = perArea[a];
        let npig = 0;
        for (const e of E) npig += e.npig;
        if (npig === 0) continue;
        for (let j = 0; j < total; j++) {
          const i = order[j];
          const e = E[which[i]];
          const D = e.dtScores.length;
          for (let t = 0; t < T; t++) st[t * total + j] = e.dtState[t * D + col[i]];
        }
        for (let m = 0; m < M; m++) {
          const maxDet = p.maxDets[m];
          let nd = 0;
          for (let j = 0; j < total; j++) if (sortedRank[j] < maxDet) sel[nd++] = j;
          for (let t = 0; t < T; t++) {
            let tp = 0;
            let fp = 0;
            const base = t * total;
            for (let j = 0; j < nd; j++) {
              const s = st[base + sel[j]];
              if (!(s & IGNORED)) {
                if (s & MATCHED) tp++;
                else fp++;
              }
              rc[j] = tp / npig;
              pr[j] = tp / (fp + tp + EPS);
            }
            const rIdx = ((t * K + k) * A + a) * M + m;
            recall[rIdx] = nd ? rc[nd - 1] : 0;
            // Precision envelope: non-increasing from the right.
            for (let j = nd - 1; j > 0; j--) if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
            // For each recall threshold the first index with rc >= thr (searchsorted 'left').
            let j = 0;
            for (let r = 0; r < R; r++) {
              const thr = recThrs[r];
              while (j < nd && rc[j] < thr) j++;
              const pIdx = (((t * R + r) * K + k) * A + a) * M + m;
              precision[pIdx] = j < nd ? pr[j] : 0;
            }
          }
        }
      }
    }
    this.eval = { precision, recall, counts: [T, R, K, A, M] };
  }

  /** The 12 standard stats; returns the printed lines (also kept in `summaryText`). */
  summarize(): string {
    if (!this.eval) throw new Error('summarize() needs accumulate() first');
    const p = this.params;
    const md = p.maxDets;
    const lines: string[] = [];
    const s = (ap: boolean, iouThr: number | null, areaRng: string, maxDets: number) => {
      const [v, line] = this.summarizeOne(ap, iouThr, areaRng, maxDets);
      lines.push(line);
      return v;
    };
    this.stats = [
      s(true, null, 'all', 100),
      s(true, 0.5, 'all', md[2]),
      s(true, 0.75, 'all', md[2]),
      s(true, null, 'small', md[2]),
      s(true, null, 'medium', md[2]),
      s(true, null, 'large', md[2]),
      s(false, null, 'all', md[0]),
      s(false, null, 'all', md[1]),
      s(false, null, 'all', md[2]),
      s(false, null, 'small', md[2]),
      s(false, null, 'medium', md[2]),
      s(false, null, 'large', md[2]),
    ];
    this.summaryText = lines.join('\n');
    return this.summaryText;
  }

  summaryText = '';

  private summarizeOne(ap: boolean, iouThr: number | null, areaRng: string, maxDets: number): [number, string] {
    const p = this.params;
    const ev = this.eval as EvalResult;
    const [T, R, K, A, M] = ev.counts;
    const tSel = iouThr === null ? range(T) : range(T).filter((t) => p.iouThrs[t] === iouThr);
    const aSel = p.areaRngLbl.map((l, i) => [l, i] as const).filter(([l]) => l === areaRng).map(([, i]) => i);
    const mSel = p.maxDets.map((m, i) => [m, i] as const).filter(([m]) => m === maxDets).map(([, i]) => i);
    const vals: number[] = [];
    // C-order over the selection: T, then R (precision only), then K, then A, then M.
    for (const t of tSel) {
      for (let r = 0; r < (ap ? R : 1); r++) {
        for (let k = 0; k < K; k++) {
          for (const a of aSel) {
            for (const m of mSel) {
              const v = ap ? ev.precision[(((t * R + r) * K + k) * A + a) * M + m] : ev.recall[((t * K + k) * A + a) * M + m];
              if (v > -1) vals.push(v);
            }
          }
        }
      }
    }
    const mean = vals.length === 0 ? -1 : pairwiseSum(vals) / vals.length;
    const title = ap ? 'Average Precision' : 'Average Recall';
    const type = ap ? '(AP)' : '(AR)';
    const iouStr = iouThr === null ? `${pyFixed(p.iouThrs[0], 2)}:${pyFixed(p.iouThrs[T - 1], 2)}` : pyFixed(iouThr, 2);
    const line = ` ${title.padEnd(18)} ${type} @[ IoU=${iouStr.padEnd(9)} | area=${areaRng.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${pyFixed(mean, 3)}`;
    return [mean, line];
  }

  /** Number of (category, area range, image) triples with a result (pycocotools' non-None evalImgs). */
  numEvalImgs(): number {
    let n = 0;
    for (const perArea of this.evalImgs) for (const list of perArea) n += list.length;
    return n;
  }
}

const countsPool = { buf: new Uint32Array(1 << 16), used: 0 };

interface Scratch {
  ig: Uint8Array;
  gtind: Int32Array;
  gtIgnore: Uint8Array;
  crowd: Uint8Array;
  gtMatched: Uint8Array;
}
let scratch: Scratch = makeScratch(64);

function makeScratch(n: number): Scratch {
  return { ig: new Uint8Array(n), gtind: new Int32Array(n), gtIgnore: new Uint8Array(n), crowd: new Uint8Array(n), gtMatched: new Uint8Array(n) };
}

/** Per-GT work buffers reused across pairs (matching is hot; allocating them each time was costly). */
function scratchFor(G: number): Scratch {
  if (scratch.ig.length < G) scratch = makeScratch(G * 2);
  return scratch;
}

function checkBox(bb: unknown, name: string, present: boolean): void {
  if (!present) throw new EvalInputError(`${name}: missing field 'bbox'`);
  if (!Array.isArray(bb) || bb.length !== 4 || bb.some((v) => typeof v !== 'number')) {
    throw new EvalInputError(`${name}: field 'bbox' must be [x, y, w, h] numbers, got ${JSON.stringify(bb)}`);
  }
}

/** Indices sorting `v` by descending value; ties keep their input order (numpy mergesort on -v). */
export function stableArgsortDesc(v: ArrayLike<number>): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  // Array.prototype.sort is stable; (b - a) orders by descending value.
  idx.sort((i, j) => v[j] - v[i]);
  return idx;
}

function uniqueSorted(a: number[]): number[] {
  return [...new Set(a)].sort((x, y) => x - y);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function structuredCloneParams(p: Params): Params {
  const q = new Params(p.iouType);
  q.imgIds = [...p.imgIds];
  q.catIds = [...p.catIds];
  q.iouThrs = p.iouThrs.slice();
  q.recThrs = p.recThrs.slice();
  q.maxDets = [...p.maxDets];
  q.areaRng = p.areaRng.map((r) => [r[0], r[1]] as [number, number]);
  q.areaRngLbl = [...p.areaRngLbl];
  q.useCats = p.useCats;
  return q;
}
