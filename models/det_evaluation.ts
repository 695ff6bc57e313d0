// Gives the COCO instance dataset type an `evaluate` (mmdet's CocoDataset.evaluate for 'bbox' and
// 'segm'): detector results -> COCO results rows (category ids via the dataset's label mapping) ->
// COCOeval against the dataset's own annotation file. Wraps the registered build function.
import { UserError } from '../core/errors';
import { DATASETS, type BuiltDataset } from '../core/registry';
import type { IouType } from '../evaluation/cocoeval';
import '../datasets/register';
import { evaluateCocoRows, resultsToCoco } from './coco_results';
import type { InstanceResult } from './mask_rcnn';

/** The parts of a built COCO dataset the evaluator reads (datasets/coco's CocoDataset). */
export interface CocoSource {
  readonly task: 'det' | 'seg';
  readonly length: number;
  readonly coco: unknown;
  imageInfo(index: number): { id: number };
  labelToCatId(label: number): number;
}

/** COCO metrics of one result per dataset image, in dataset order (bbox_mAP, ..., segm_mAP_l). */
export function evaluateCocoDataset(source: CocoSource, results: readonly InstanceResult[], metric: readonly string[]): Record<string, number> {
  const types = (metric.length ? metric : ['bbox']) as string[];
  for (const t of types) if (t !== 'bbox' && t !== 'segm') throw new UserError(`evaluation.metric '${t}' is not supported for CocoDataset (expected 'bbox' and/or 'segm')`);
  if (results.length !== source.length) throw new UserError(`CocoDataset.evaluate: ${results.length} results for ${source.length} images`);
  if (types.includes('segm') && results.some((r) => r.scores.length > 0 && !r.masks)) throw new UserError("evaluation.metric 'segm' needs mask results (the model has no mask head)");
  const ids = results.map((_, i) => source.imageInfo(i).id);
  const rows = resultsToCoco([...results], ids, (l) => source.labelToCatId(l));
  return evaluateCocoRows(source.coco as never, rows, types as IouType[]).metrics;
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
        if (!built.evaluate && source && source.task === 'det') built.evaluate = (results, opts) => evaluateCocoDataset(source, results, opts.metric);
        return built as BuiltDataset;
      },
    } as typeof entry,
    { override: true },
  );
}

installDetDatasetEvaluate();
