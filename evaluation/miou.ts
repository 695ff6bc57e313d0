// Semantic segmentation metrics with mmsegmentation's IoUMetric semantics (intersect_and_union and
// total_area_to_metrics), written from shared/fixtures/miou/README.md.

import { asciiTable } from './classwise';
import { EvalInputError } from './errors';
import { npNanMean, pyFixed } from './numeric';

export type LabelArray = Int32Array | Uint8Array | Uint16Array | Int16Array | Uint32Array;

export interface AreaCounts {
  areaIntersect: Float64Array;
  areaUnion: Float64Array;
  areaPredLabel: Float64Array;
  areaLabel: Float64Array;
}

export interface SegMetrics {
  /** Fractions in [0, 1]; NaN where undefined. */
  aAcc: number;
  mIoU: number;
  mAcc: number;
  IoU: Float64Array;
  Acc: Float64Array;
  totals: AreaCounts;
}

/**
 * Histograms of one image. `reduceZeroLabel` maps the GT only (0 → 255, v → v-1, 255 stays);
 * pixels whose GT equals `ignoreIndex` are dropped; values outside [0, numClasses) count nowhere.
 */
export function intersectAndUnion(
  pred: LabelArray,
  label: LabelArray,
  numClasses: number,
  ignoreIndex = 255,
  reduceZeroLabel = false,
): AreaCounts {
  if (pred.length !== label.length) {
    throw new EvalInputError(`prediction has ${pred.length} pixels but the label has ${label.length}`);
  }
  const inter = new Float64Array(numClasses);
  const predHist = new Float64Array(numClasses);
  const labelHist = new Float64Array(numClasses);
  const n = pred.length;
  for (let i = 0; i < n; i++) {
    let g = label[i];
    if (reduceZeroLabel) {
      if (g === 0) g = 255;
      else g -= 1;
      if (g === 254) g = 255;
    }
    if (g === ignoreIndex) continue;
    const p = pred[i];
    const pIn = p >= 0 && p < numClasses;
    if (pIn) predHist[p]++;
    if (g >= 0 && g < numClasses) {
      labelHist[g]++;
      if (p === g) inter[g]++;
    }
  }
  const union = new Float64Array(numClasses);
  for (let c = 0; c < numClasses; c++) union[c] = predHist[c] + labelHist[c] - inter[c];
  return { areaIntersect: inter, areaUnion: union, areaPredLabel: predHist, areaLabel: labelHist };
}

/** aAcc, per-class IoU/Acc (NaN for 0/0) and their NaN-skipping means, from summed histograms. */
export function totalAreaToMetrics(t: AreaCounts): SegMetrics {
  const K = t.areaIntersect.length;
  let si = 0;
  let sl = 0;
  for (let c = 0; c < K; c++) {
    si += t.areaIntersect[c];
    sl += t.areaLabel[c];
  }
  const IoU = new Float64Array(K);
  const Acc = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    IoU[c] = t.areaIntersect[c] / t.areaUnion[c];
    Acc[c] = t.areaIntersect[c] / t.areaLabel[c];
  }
  return { aAcc: si / sl, mIoU: npNanMean(IoU), mAcc: npNanMean(Acc), IoU, Acc, totals: t };
}

export interface IoUAccumulatorOptions {
  numClasses: number;
  ignoreIndex?: number;
  reduceZeroLabel?: boolean;
  classNames?: string[];
}

/** Sums per-image histograms over a dataset; `metrics()` gives the mmsegmentation numbers. */
export class IoUAccumulator {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly reduceZeroLabel: boolean;
  readonly classNames: string[];
  readonly totals: AreaCounts;
  numImages = 0;

  constructor(opts: IoUAccumulatorOptions) {
    if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1) {
      throw new EvalInputError(`numClasses must be a positive integer, got ${opts.numClasses}`);
    }
    this.numClasses = opts.numClasses;
    this.ignoreIndex = opts.ignoreIndex ?? 255;
    this.reduceZeroLabel = opts.reduceZeroLabel ?? false;
    this.classNames = opts.classNames ?? Array.from({ length: opts.numClasses }, (_, i) => String(i));
    if (this.classNames.length !== this.numClasses) {
      throw new EvalInputError(`${this.classNames.length} class names given for ${this.numClasses} classes`);
    }
    const z = () => new Float64Array(this.numClasses);
    this.totals = { areaIntersect: z(), areaUnion: z(), areaPredLabel: z(), areaLabel: z() };
  }

  /** Adds one image (flat label maps of equal length, any consistent pixel order); returns its counts. */
  add(pred: LabelArray, label: LabelArray): AreaCounts {
    const r = intersectAndUnion(pred, label, this.numClasses, this.ignoreIndex, this.reduceZeroLabel);
    for (let c = 0; c < this.numClasses; c++) {
      this.totals.areaIntersect[c] += r.areaIntersect[c];
      this.totals.areaUnion[c] += r.areaUnion[c];
      this.totals.areaPredLabel[c] += r.areaPredLabel[c];
      this.totals.areaLabel[c] += r.areaLabel[c];
    }
    this.numImages++;
    return r;
  }

  metrics(): SegMetrics {
    return totalAreaToMetrics(this.totals);
  }
}

/** mmsegmentation-style per-class table (percent, 2 decimals) followed by the summary line. */
export function miouTable(m: SegMetrics, classNames: string[]): string {
  const pct = (v: number) => (Number.isNaN(v) ? 'nan' : pyFixed(v * 100, 2));
  const rows = [['Class', 'IoU', 'Acc'], ...classNames.map((name, c) => [name, pct(m.IoU[c]), pct(m.Acc[c])])];
  const summary = asciiTable([
    ['aAcc', 'mIoU', 'mAcc'],
    [pct(m.aAcc), pct(m.mIoU), pct(m.mAcc)],
  ]);
  return `per class results:\n${asciiTable(rows)}\nSummary:\n${summary}`;
}
