// Gives the COCO instance dataset type an `evaluate` (mmdet's CocoDataset.evaluate for 'bbox' and
// 'segm'): detector results -> COCO results rows (category ids via the dataset's label mapping) ->
// COCOeval against the dataset's own annotation file. Wraps the registered build function.
import { UserError } from '../core/errors';
import { DATASETS, type BuiltDataset } from '../core/registry';
import { classwiseTable, perCategory } from '../evaluation/classwise';
import type { COCOeval, IouType } from '../evaluation/cocoeval';
import '../datasets/register';
import { type CocoMetrics, type CocoResultRows, evaluateCocoRows, resultsToCoco } from './coco_results';
import type { InstanceResult } from './mask_rcnn';

/** The parts of a built COCO dataset the evaluator reads (datasets/coco's CocoDataset). */
export interface CocoSource {
  readonly task: 'det' | 'seg';
  readonly length: number;
  readonly coco: unknown;
  imageInfo(index: number): { id: number };
  labelToCatId(label: number): number;
}

/** What a COCO evaluation of a dataset's results gives: the results rows, metrics, printed summaries, evaluators. */
export interface CocoDatasetEvaluation extends CocoMetrics {
  rows: CocoResultRows;
  iouTypes: IouType[];
}

/**
 * mmdet's CocoDataset.evaluate for one result per dataset image, in dataset order: results -> COCO
 * rows (category ids via the dataset's label mapping) -> COCOeval per iou type ('bbox' when
 * `metric` is empty). tools/eval prints its summaries and classwise tables and writes its rows.
 */
export function evaluateCocoDetections(source: CocoSource, results: readonly InstanceResult[], metric: readonly string[]): CocoDatasetEvaluation {
  const types = (metric.length ? metric : ['bbox']) as string[];
  checkCocoMetric(types);
  if (results.length !== source.length) throw new UserError(`CocoDataset.evaluate: ${results.length} results for ${source.length} images`);
  if (types.includes('segm') && results.some((r) => r.scores.length > 0 && !r.masks)) throw new UserError("evaluation.metric 'segm' needs mask results (the model has no mask head)");
  const ids = results.map((_, i) => source.imageInfo(i).id);
  const rows = resultsToCoco([...results], ids, (l) => source.labelToCatId(l));
  const iouTypes = types as IouType[];
  return { ...evaluateCocoRows(source.coco as never, rows, iouTypes), rows, iouTypes };
}

/**
 * Throws UserError unless every name is a COCO iou type mmdet's CocoDataset evaluates ('bbox',
 * 'segm'); runs before training/inference so a typo costs nothing.
 */
export function checkCocoMetric(metric: readonly string[]): void {
  for (const t of metric) {
    if (t !== 'bbox' && t !== 'segm') {
      const hint = /map|ap/i.test(t) ? " (mmdetection's CocoDataset computes mAP for 'bbox' and 'segm')" : '';
      throw new UserError(`evaluation.metric '${t}' is not supported for CocoDataset: expected 'bbox' and/or 'segm'${hint}`);
    }
  }
}

/** mmdet's per-category AP table for each evaluated iou type (none for a type without detections). */
export function classwiseTables(ev: Pick<CocoMetrics, 'evaluators'>): Partial<Record<IouType, string>> {
  const out: Partial<Record<IouType, string>> = {};
  for (const [t, E] of Object.entries(ev.evaluators) as [IouType, COCOeval][]) out[t] = classwiseTable(perCategory(E));
  return out;
}

/** COCO metrics of one result per dataset image, in dataset order (bbox_mAP, ..., segm_mAP_l). */
export function evaluateCocoDataset(source: CocoSource, results: readonly InstanceResult[], metric: readonly string[]): Record<string, number> {
  return evaluateCocoDetections(source, results, metric).metrics;
}

export function installDetDatasetEvaluate(): void {
  const type = 'CocoDataset';
  if (!DATASETS.has(type)) return;
  const entry = DATASETS.get(type);
  if ((entry as { detEvalWrapped?: boolean }).detEvalWrapped) return;
  DATASETS.register(
    type,
    {
      ...entry,
      detEvalWrapped: true,
      build: (cfg: Parameters<typeof entry.build>[0], ctx: Parameters<typeof entry.build>[1]) => {
        const built = entry.build(cfg, ctx) as BuiltDataset<unknown, InstanceResult> & { raw?: CocoSource };
        const source = built.raw;
        if (!built.evaluate && source && source.task === 'det') {
          built.evaluate = (results, opts) => evaluateCocoDataset(source, results, opts.metric);
          built.checkMetric = checkCocoMetric;
        }
        return built as BuiltDataset;
      },
    } as typeof entry,
    { override: true },
  );
}

installDetDatasetEvaluate();
