// Dataset-level evaluation of semantic segmentation results with mmseg 0.30's semantics: each
// prediction (at the original image size) is compared with the original label map read from disk
// (reduce_zero_label applied to the GT only, ignore_index dropped), histograms are summed over the
// dataset, and the metrics are reported as mmseg's `evaluate` returns them: fractions rounded to
// 4 decimals (np.round(100 * v, 2) / 100) under 'aAcc', 'mIoU', 'mAcc', 'IoU.<class>', 'Acc.<class>'.
import { UserError } from '../core/errors';
import { DATASETS, type BuiltDataset } from '../core/registry';
import { IoUAccumulator, type SegMetrics, miouTable, pyFixed, readLabelPng } from '../evaluation';
import type { RawSample } from '../datasets/types';
import '../datasets/register';
import type { SegResult } from './encoder_decoder';

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

export function segMetricsRecord(m: SegMetrics, classNames: readonly string[]): Record<string, number> {
  const out: Record<string, number> = { aAcc: round4(m.aAcc), mIoU: round4(m.mIoU), mAcc: round4(m.mAcc) };
  classNames.forEach((name, c) => {
    out[`IoU.${name}`] = round4(m.IoU[c]);
    out[`Acc.${name}`] = round4(m.Acc[c]);
  });
  return out;
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
  results.forEach((r, i) => {
    const gt = readLabelPng(gtFiles[i]);
    if (gt.width !== r.width || gt.height !== r.height) {
      throw new UserError(`${gtFiles[i]}: label map is ${gt.width}x${gt.height} but the prediction for ${r.filename} is ${r.width}x${r.height} (width x height)`);
    }
    acc.add(r.sem_seg, gt.data);
  });
  const raw = acc.metrics();
  return { metrics: segMetricsRecord(raw, opts.classNames), table: miouTable(raw, [...opts.classNames]), raw };
}

/** The parts of a built segmentation dataset the evaluator reads (datasets/register's LoadableDataset). */
interface SegSource {
  readonly length: number;
  readonly task: 'det' | 'seg';
  readonly classes: readonly string[];
  raw(index: number): RawSample;
}

/** Throws UserError unless every metric name is one mmseg computes here ('mIoU'). */
export function checkSegMetric(metric: readonly string[]): void {
  const bad = metric.filter((m) => m !== 'mIoU');
  if (bad.length) throw new UserError(`evaluation.metric: '${bad[0]}' is not supported for segmentation (expected 'mIoU')`);
}

/** Evaluates results in dataset order against the dataset's label maps; `metric` must be ['mIoU']. */
export function evaluateSegDataset(source: SegSource, results: readonly SegResult[], metric: readonly string[]): SegEvaluation {
  checkSegMetric(metric);
  if (results.length !== source.length) throw new UserError(`${results.length} results for a dataset of ${source.length} images`);
  const gtFiles: string[] = [];
  let reduce = false;
  for (let i = 0; i < source.length; i++) {
    const s = source.raw(i);
    if (!s.seg_map) throw new UserError(`${s.filename}: no label map to evaluate against (set ann_dir in the dataset config)`);
    gtFiles.push(s.seg_map);
    reduce = s.reduce_zero_label ?? false;
  }
  return evaluateSegResults(results, gtFiles, { classNames: source.classes, reduceZeroLabel: reduce });
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

/**
 * Gives the segmentation dataset types an `evaluate` (mmseg's mIoU) when their registration has
 * none. Wraps the registered build functions; a no-op for types that already evaluate.
 */
export function installSegDatasetEvaluate(): void {
  for (const type of ['ADE20KDataset', 'CustomSegDataset']) {
    if (!DATASETS.has(type)) continue;
    const entry = DATASETS.get(type);
    if ((entry as { segEvalWrapped?: boolean }).segEvalWrapped) continue;
    const wrapped = {
      ...entry,
      segEvalWrapped: true,
      build: (cfg: Parameters<typeof entry.build>[0], ctx: Parameters<typeof entry.build>[1]) => {
        const built = entry.build(cfg, ctx) as BuiltDataset<unknown, SegResult> & { raw?: SegSource };
        const source = built.raw;
        if (!built.evaluate && source && source.task === 'seg') {
          built.evaluate = (results, opts) => evaluateSegDataset(source, results, opts.metric).metrics;
          built.checkMetric = checkSegMetric;
        }
        return built as BuiltDataset;
      },
    };
    DATASETS.register(type, wrapped, { override: true });
  }
}

installSegDatasetEvaluate();
