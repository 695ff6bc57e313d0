// COCO bbox/segm evaluation of detector predictions as they arrive (mmdet 2.x CocoDataset.evaluate,
// detectron2's COCOEvaluator): each batch's detections become COCO results rows at once (masks are
// already compressed RLE), so memory is the rows, not the predictions; `evaluate` runs COCOeval per
// iou type against the dataset's own annotation file.
import { UserError } from '../../core/errors';
import type { EvaluationReport, Evaluator } from '../../core/registry';
import type { InstanceResult } from '../../structures/results';
import { classwiseTable, perCategory } from '../classwise';
import { COCO, type CocoDataset as CocoJson } from '../coco';
import { type CocoResultRows, evaluateCocoRows, resultsToCoco, writeCocoResultFiles } from '../coco_results';
import type { IouType } from '../cocoeval';

/** The parts of a built COCO dataset the evaluator reads (datasets/coco's CocoDataset). */
export interface CocoGtSource {
  readonly length: number;
  /** The annotation file's content (images, annotations, categories). */
  readonly coco: CocoJson;
  /** The annotation file's path, named in warnings about its content. */
  readonly annFile?: string;
  imageInfo(index: number): { id: number };
  labelToCatId(label: number): number;
  raw(index: number): { filename: string };
}

export interface CocoEvaluatorOptions {
  /** 'bbox' and/or 'segm' (default ['bbox']). */
  metric?: readonly string[];
  /** Also report mmdetection's per-category AP table per iou type. */
  classwise?: boolean;
}

/** What the evaluator reads from a batch: the image file of each prediction, to check the order. */
export interface BatchWithMetas {
  metas: readonly { filename: string }[];
}

/**
 * Scores one InstanceResult per dataset image, in dataset order (bboxes in original-image pixels,
 * labels 0..K-1 mapped to category ids through the dataset). Metrics are mmdet's names
 * (bbox_mAP, bbox_mAP_50, ..., segm_mAP_l). Throws UserError for an unsupported metric, 'segm'
 * without masks, predictions out of dataset order, or a count that does not match the dataset.
 */
export class CocoEvaluator implements Evaluator<BatchWithMetas, InstanceResult> {
  readonly iouTypes: IouType[];
  private rows: CocoResultRows = { bbox: [], segm: [] };
  private next = 0;
  private withMasks = false;
  /** Whether the ground truth's warnings were printed (once per run, not at every evaluation). */
  private warned = false;

  constructor(
    readonly source: CocoGtSource,
    readonly opts: CocoEvaluatorOptions = {},
  ) {
    const types = opts.metric?.length ? [...opts.metric] : ['bbox'];
    for (const t of types) if (t !== 'bbox' && t !== 'segm') throw new UserError(`evaluation.metric '${t}' is not supported for CocoDataset (expected 'bbox' and/or 'segm')`);
    this.iouTypes = types as IouType[];
  }

  reset(): void {
    this.rows = { bbox: [], segm: [] };
    this.next = 0;
    this.withMasks = false;
  }

  process(inputs: BatchWithMetas, outputs: readonly InstanceResult[]): void {
    outputs.forEach((r, i) => {
      const index = this.next++;
      if (index >= this.source.length) throw new UserError(`CocoEvaluator: more predictions than the ${this.source.length} images of the dataset`);
      const file = inputs.metas[i]?.filename;
      const expected = this.source.raw(index).filename;
      if (file !== undefined && file !== expected) throw new UserError(`CocoEvaluator: prediction ${index} is for ${file}, expected ${expected} (predictions must come in dataset order)`);
      if (this.iouTypes.includes('segm') && r.scores.length > 0 && !r.masks) throw new UserError("evaluation.metric 'segm' needs mask results (the model has no mask head)");
      if (r.masks !== undefined) this.withMasks = true;
      const rows = resultsToCoco([r], [this.source.imageInfo(index).id], (l) => this.source.labelToCatId(l));
      this.rows.bbox.push(...rows.bbox);
      this.rows.segm.push(...rows.segm);
    });
  }

  evaluate(): EvaluationReport {
    if (this.next !== this.source.length) throw new UserError(`CocoDataset.evaluate: ${this.next} results for ${this.source.length} images`);
    // Indexed anew each time so its decoded masks are freed between the evaluations of a run.
    const gt = new COCO(this.source.coco, this.source.annFile, this.warned ? { warn: () => undefined } : {});
    this.warned = true;
    const ev = evaluateCocoRows(gt, this.rows, this.iouTypes);
    const text: string[] = [];
    for (const t of this.iouTypes) {
      text.push(`Evaluating ${t}...`, ev.summaries[t]);
      const E = ev.evaluators[t];
      if (this.opts.classwise && E) text.push(classwiseTable(perCategory(E)));
    }
    return { metrics: ev.metrics, text: text.join('\n') };
  }

  /** mmdet's results2json files: `<stem>.bbox.json`, and `<stem>.segm.json` when the model has masks. */
  writeResults(out: string): string[] {
    return writeCocoResultFiles(out, this.rows, this.withMasks);
  }
}
