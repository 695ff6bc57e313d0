// Dataset-level evaluation of semantic segmentation results with mmseg 0.30's semantics: each
// prediction (at the original image size) is compared with the original label map read from disk
// (reduce_zero_label applied to the GT only, ignore_index dropped), histograms are summed over the
// dataset, and the metrics are reported as mmseg's `evaluate` returns them: fractions rounded to
// 4 decimals (np.round(100 * v, 2) / 100) under 'aAcc', 'mIoU', 'mAcc', 'IoU.<class>', 'Acc.<class>'.
import { UserError } from '../core/errors';
import type { SegResult } from '../structures/results';
import { readLabelPng } from './label_png';
import { IoUAccumulator, type SegMetrics, miouTable } from './miou';
import { pyFixed } from './numeric';

export interface SegEvalOptions {
  classNames: readonly string[];
  reduceZeroLabel: boolean;
  ignoreIndex?: number;
}

export interface SegEvaluation {
  /** mmseg's eval_results keys and values. */
  metrics: Record<string, number>;
  /** The per-class table and summary, as mmseg prints them. */
  table: string;
  raw: SegMetrics;
}

const round4 = (v: number): number => (Number.isNaN(v) ? NaN : Number(pyFixed(v * 100, 2)) / 100);

/** mmseg's eval_results record of the metrics: aAcc, mIoU, mAcc, IoU.<class>, Acc.<class>, as rounded fractions. */
export function segMetricsRecord(m: SegMetrics, classNames: readonly string[]): Record<string, number> {
  const out: Record<string, number> = { aAcc: round4(m.aAcc), mIoU: round4(m.mIoU), mAcc: round4(m.mAcc) };
  classNames.forEach((name, c) => {
    out[`IoU.${name}`] = round4(m.IoU[c]);
    out[`Acc.${name}`] = round4(m.Acc[c]);
  });
  return out;
}

/**
 * Adds one prediction to the histograms, compared with the label map `gtFile` (PNG). Throws UserError
 * when the sizes differ (predictions are at the original image size).
 */
export function addSegResult(acc: IoUAccumulator, r: SegResult, gtFile: string): void {
  const gt = readLabelPng(gtFile);
  if (gt.width !== r.width || gt.height !== r.height) {
    throw new UserError(`${gtFile}: label map is ${gt.width}x${gt.height} but the prediction for ${r.filename} is ${r.width}x${r.height} (width x height)`);
  }
  acc.add(r.sem_seg, gt.data);
}

/** Compares results[i] with the label map gtFiles[i]; sizes must agree (predictions are at the original size). */
export function evaluateSegResults(results: readonly SegResult[], gtFiles: readonly string[], opts: SegEvalOptions): SegEvaluation {
  if (results.length !== gtFiles.length) throw new UserError(`${results.length} segmentation results for ${gtFiles.length} label maps`);
  const acc = new IoUAccumulator({
    numClasses: opts.classNames.length,
    ignoreIndex: opts.ignoreIndex ?? 255,
    reduceZeroLabel: opts.reduceZeroLabel,
    classNames: [...opts.classNames],
  });
  results.forEach((r, i) => addSegResult(acc, r, gtFiles[i]));
  const raw = acc.metrics();
  return { metrics: segMetricsRecord(raw, opts.classNames), table: miouTable(raw, [...opts.classNames]), raw };
}

/**
 * mmseg's per-class table rebuilt from a metrics record (what checkpoints and eval hooks keep):
 * tools print it after a segmentation evaluation. Returns '' when the record has no per-class keys.
 */
export function segTableFromMetrics(metrics: Record<string, number>): string {
  const names = Object.keys(metrics).filter((k) => k.startsWith('IoU.')).map((k) => k.slice(4));
  if (!names.length || metrics.mIoU === undefined) return '';
  const m: SegMetrics = {
    aAcc: metrics.aAcc,
    mIoU: metrics.mIoU,
    mAcc: metrics.mAcc,
    IoU: Float64Array.from(names, (n) => metrics[`IoU.${n}`]),
    Acc: Float64Array.from(names, (n) => metrics[`Acc.${n}`] ?? NaN),
    totals: { areaIntersect: new Float64Array(0), areaUnion: new Float64Array(0), areaPredLabel: new Float64Array(0), areaLabel: new Float64Array(0) },
  };
  return miouTable(m, names);
}
