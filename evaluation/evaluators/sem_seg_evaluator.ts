// mmseg 0.30's mIoU evaluation of semantic segmentation predictions as they arrive: each prediction
// (at the original image size) is compared at once with the image's label map read from disk
// (reduce_zero_label applied to the GT only, ignore_index dropped) and only the per-class
// histograms are kept, so memory does not grow with the validation set.
import { mkdirSync, writeFileSync } from '#platform/fs';
import { dirname } from '#platform/path';
import { UserError } from '../../core/errors';
import type { EvaluationReport, Evaluator } from '../../core/registry';
import type { SegResult } from '../../structures/results';
import { IoUAccumulator, miouTable } from '../miou';
import { addSegResult, segMetricsRecord } from '../sem_seg_results';

/** The parts of a built segmentation dataset the evaluator reads (datasets/seg's SegDataset). */
export interface SegGtSource {
  readonly length: number;
  readonly classes: readonly string[];
  raw(index: number): { filename: string; ori_filename: string; seg_map?: string; reduce_zero_label?: boolean };
}

export interface SemSegEvaluatorOptions {
  /** Only 'mIoU' (the default) is supported. */
  metric?: readonly string[];
  /** The per-class table is always reported; accepted for symmetry with CocoEvaluator. */
  classwise?: boolean;
  /** Label value that counts nowhere (mmseg's ignore_index, default 255). */
  ignore_index?: number;
}

/** What `writeResults` records per image. */
interface ImageRecord {
  filename: string;
  ori_filename: string;
  height: number;
  width: number;
}

/**
 * aAcc / mIoU / mAcc and IoU.<class> / Acc.<class> (fractions rounded as mmseg prints them) of one
 * SegResult per dataset image, in dataset order. Throws UserError for an unsupported metric, an image
 * without a label map, a size mismatch, predictions out of order or a wrong count.
 */
export class SemSegEvaluator implements Evaluator<unknown, SegResult> {
  private acc!: IoUAccumulator;
  private next = 0;
  private images: ImageRecord[] = [];

  constructor(
    readonly source: SegGtSource,
    readonly opts: SemSegEvaluatorOptions = {},
  ) {
    const bad = (opts.metric ?? []).filter((m) => m !== 'mIoU');
    if (bad.length) throw new UserError(`evaluation.metric: '${bad[0]}' is not supported for segmentation (expected 'mIoU')`);
    this.reset();
  }

  reset(): void {
    this.acc = new IoUAccumulator({
      numClasses: this.source.classes.length,
      ignoreIndex: this.opts.ignore_index ?? 255,
      reduceZeroLabel: this.source.length > 0 ? (this.source.raw(0).reduce_zero_label ?? false) : false,
      classNames: [...this.source.classes],
    });
    this.next = 0;
    this.images = [];
  }

  process(_inputs: unknown, outputs: readonly SegResult[]): void {
    for (const r of outputs) {
      const index = this.next++;
      if (index >= this.source.length) throw new UserError(`SemSegEvaluator: more predictions than the ${this.source.length} images of the dataset`);
      const s = this.source.raw(index);
      if (r.filename !== s.filename) throw new UserError(`SemSegEvaluator: prediction ${index} is for ${r.filename}, expected ${s.filename} (predictions must come in dataset order)`);
      if (!s.seg_map) throw new UserError(`${s.filename}: no label map to evaluate against (set ann_dir in the dataset config)`);
      addSegResult(this.acc, r, s.seg_map);
      this.images.push({ filename: r.filename, ori_filename: s.ori_filename, height: r.height, width: r.width });
    }
  }

  evaluate(): EvaluationReport {
    if (this.next !== this.source.length) throw new UserError(`${this.next} results for a dataset of ${this.source.length} images`);
    const raw = this.acc.metrics();
    return { metrics: segMetricsRecord(raw, this.source.classes), text: miouTable(raw, [...this.source.classes]), headline: ['aAcc', 'mIoU', 'mAcc'] };
  }

  /** `{...header, metrics, images}` JSON (images: filename, ori_filename, height, width per prediction). */
  writeResults(out: string, header: Record<string, unknown>, report: EvaluationReport): string[] {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ ...header, metrics: report.metrics, images: this.images }, null, 1)}\n`);
    return [out];
  }
}
