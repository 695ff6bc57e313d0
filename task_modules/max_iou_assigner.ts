// mmdet 2.x MaxIoUAssigner (assign + assign_wrt_overlaps) on typed arrays: a deliberate CPU step, the
// overlap matrix is small (gts x boxes) and its result drives index bookkeeping.
import { bboxOverlaps, numBoxes } from '../ops/boxes';
import type { AssignResult } from './assign_result';

export type { AssignResult } from './assign_result';

export interface MaxIoUAssignerConfig {
  pos_iou_thr: number;
  /** A number: negatives have IoU in [0, thr); a pair [lo, hi]: negatives have IoU in [lo, hi). */
  neg_iou_thr: number | [number, number];
  min_pos_iou?: number;
  gt_max_assign_all?: boolean;
  match_low_quality?: boolean;
  ignore_iof_thr?: number;
  ignore_wrt_candidates?: boolean;
}

export class MaxIoUAssigner {
  readonly posIouThr: number;
  readonly negIouThr: number | [number, number];
  readonly minPosIou: number;
  readonly gtMaxAssignAll: boolean;
  readonly matchLowQuality: boolean;
  readonly ignoreIofThr: number;
  readonly ignoreWrtCandidates: boolean;

  constructor(cfg: MaxIoUAssignerConfig) {
    // Thresholds are rounded to float32: torch compares a float32 overlap tensor with a Python scalar in
    // float32, so an IoU of exactly float32(0.7) counts as >= 0.7 there.
    const f = Math.fround;
    this.posIouThr = f(cfg.pos_iou_thr);
    this.negIouThr = Array.isArray(cfg.neg_iou_thr) ? [f(cfg.neg_iou_thr[0]), f(cfg.neg_iou_thr[1] ?? NaN)] : f(cfg.neg_iou_thr);
    if (Array.isArray(cfg.neg_iou_thr) && cfg.neg_iou_thr.length !== 2) throw new RangeError('MaxIoUAssigner: neg_iou_thr pair needs 2 numbers');
    this.minPosIou = f(cfg.min_pos_iou ?? 0);
    this.gtMaxAssignAll = cfg.gt_max_assign_all ?? true;
    this.matchLowQuality = cfg.match_low_quality ?? true;
    this.ignoreIofThr = f(cfg.ignore_iof_thr ?? -1);
    this.ignoreWrtCandidates = cfg.ignore_wrt_candidates ?? true;
  }

  /**
   * bboxes: flat [N*4]; gtBboxes: flat [G*4]; gtBboxesIgnore: flat [I*4] (crowd regions); gtLabels: [G].
   * Boxes whose largest IoF with an ignore region exceeds ignore_iof_thr get overlap -1 with every gt, so
   * they end up neither positive nor negative (gtInds -1).
   */
  assign(bboxes: Float32Array, gtBboxes: Float32Array, gtBboxesIgnore?: Float32Array, gtLabels?: Int32Array): AssignResult {
    const n = numBoxes(bboxes, 'bboxes');
    const g = numBoxes(gtBboxes, 'gtBboxes');
    if (gtLabels && gtLabels.length !== g) throw new RangeError(`MaxIoUAssigner: ${g} gt boxes but ${gtLabels.length} labels`);
    const overlaps = bboxOverlaps(gtBboxes, bboxes, 'iou'); // [G, N]
    if (this.ignoreIofThr > 0 && gtBboxesIgnore && gtBboxesIgnore.length > 0 && n > 0) {
      const ni = numBoxes(gtBboxesIgnore, 'gtBboxesIgnore');
      const ignored = new Uint8Array(n);
      if (this.ignoreWrtCandidates) {
        const iof = bboxOverlaps(bboxes, gtBboxesIgnore, 'iof'); // [N, I]
        for (let j = 0; j < n; j++) {
          let m = -Infinity;
          for (let k = 0; k < ni; k++) m = Math.max(m, iof[j * ni + k]);
          ignored[j] = m > this.ignoreIofThr ? 1 : 0;
        }
      } else {
        const iof = bboxOverlaps(gtBboxesIgnore, bboxes, 'iof'); // [I, N]
        for (let j = 0; j < n; j++) {
          let m = -Infinity;
          for (let k = 0; k < ni; k++) m = Math.max(m, iof[k * n + j]);
          ignored[j] = m > this.ignoreIofThr ? 1 : 0;
        }
      }
      for (let i = 0; i < g; i++) for (let j = 0; j < n; j++) if (ignored[j]) overlaps[i * n + j] = -1;
    }
    return this.assignWrtOverlaps(overlaps, g, n, gtLabels);
  }

  /** mmdet assign_wrt_overlaps on an overlap matrix [G, N] (row-major). */
  assignWrtOverlaps(overlaps: Float32Array, g: number, n: number, gtLabels?: Int32Array): AssignResult {
    const gtInds = new Int32Array(n).fill(-1);
    const maxOverlaps = new Float32Array(n);
    const labels = gtLabels ? new Int32Array(n).fill(-1) : new Int32Array(0);
    if (g === 0 || n === 0) {
      if (g === 0) gtInds.fill(0);
      return { numGts: g, gtInds, maxOverlaps, labels };
    }
    // Per box: max over gts (first gt on ties, like torch.max on CPU); per gt: max over boxes.
    const argmax = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      let m = overlaps[j];
      let a = 0;
      for (let i = 1; i < g; i++) {
        const v = overlaps[i * n + j];
        if (v > m) {
          m = v;
          a = i;
        }
      }
      maxOverlaps[j] = m;
      argmax[j] = a;
    }
    const [negLo, negHi] = Array.isArray(this.negIouThr) ? this.negIouThr : [0, this.negIouThr];
    for (let j = 0; j < n; j++) {
      const m = maxOverlaps[j];
      if (m >= negLo && m < negHi) gtInds[j] = 0;
      if (m >= this.posIouThr) gtInds[j] = argmax[j] + 1;
    }
    if (this.matchLowQuality) {
      // Each gt also takes the box(es) it overlaps most, if that IoU reaches min_pos_iou. Later gts win
      // a box claimed by several, as in mmdet's loop.
      for (let i = 0; i < g; i++) {
        let gm = -Infinity;
        let ga = 0;
        for (let j = 0; j < n; j++) {
          if (overlaps[i * n + j] > gm) {
            gm = overlaps[i * n + j];
            ga = j;
          }
        }
        if (!(gm >= this.minPosIou)) continue;
        if (this.gtMaxAssignAll) {
          for (let j = 0; j < n; j++) if (overlaps[i * n + j] === gm) gtInds[j] = i + 1;
        } else gtInds[ga] = i + 1;
      }
    }
    if (gtLabels) for (let j = 0; j < n; j++) if (gtInds[j] > 0) labels[j] = gtLabels[gtInds[j] - 1];
    return { numGts: g, gtInds, maxOverlaps, labels };
  }
}
