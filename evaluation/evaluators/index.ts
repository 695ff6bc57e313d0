// Registers the evaluators in EVALUATORS (what a dataset names as its `evaluator` and what
// `evaluation.evaluator` may override). Config keys besides `type`: `metric` (string list) and the
// evaluator's own options. The build context's dataset must expose its ground truth as `raw`.
import { s } from '../../core/config_schema';
import { UserError } from '../../core/errors';
import { type BuiltDataset, EVALUATORS } from '../../core/registry';
import { CocoEvaluator, type CocoGtSource } from './coco_evaluator';
import { type SegGtSource, SemSegEvaluator } from './sem_seg_evaluator';

export { CocoEvaluator, SemSegEvaluator };

/** The dataset's ground-truth source when it has every member in `members`, else a UserError naming the evaluator. */
function sourceOf<T>(dataset: BuiltDataset, evaluator: string, members: string[]): T {
  const raw = dataset.raw as Record<string, unknown> | undefined;
  const missing = members.filter((m) => raw == null || !(m in raw));
  if (missing.length) throw new UserError(`${evaluator} cannot score this dataset: it lacks ${missing.join(', ')} (expected ${evaluator === 'CocoEvaluator' ? 'a CocoDataset' : 'a segmentation dataset'})`);
  return raw as T;
}

export function registerEvaluators(): void {
  if (!EVALUATORS.has('CocoEvaluator')) {
    EVALUATORS.register('CocoEvaluator', {
      schema: s.object({ metric: s.array(s.string()).optional(), classwise: s.boolean().optional() }),
      build: (cfg, ctx) => new CocoEvaluator(sourceOf<CocoGtSource>(ctx.dataset, 'CocoEvaluator', ['coco', 'imageInfo', 'labelToCatId', 'raw']), cfg),
      doc: "COCO bbox/segm mAP (pycocotools COCOeval), mmdet's metric names",
    });
  }
  if (!EVALUATORS.has('SemSegEvaluator')) {
    EVALUATORS.register('SemSegEvaluator', {
      schema: s.object({ metric: s.array(s.string()).optional(), classwise: s.boolean().optional(), ignore_index: s.int({ min: 0 }).optional() }),
      build: (cfg, ctx) => new SemSegEvaluator(sourceOf<SegGtSource>(ctx.dataset, 'SemSegEvaluator', ['classes', 'raw']), cfg),
      doc: "aAcc/mIoU/mAcc with mmseg's per-class table",
    });
  }
}

registerEvaluators();
