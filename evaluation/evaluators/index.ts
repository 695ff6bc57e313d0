// Registers the evaluators in EVALUATORS (what a dataset names as its `evaluator` and what
// `evaluation.evaluator` may override). Config keys besides `type`: `metric` (string list) and the
// evaluator's own options. The build context's dataset must expose its ground truth as `raw`.
import { s } from '../../core/config_schema';
import { UserError } from '../../core/errors';
import { type BuiltDataset, EVALUATORS } from '../../core/registry';
import { CocoEvaluator, type CocoGtSource } from './coco_evaluator';
import { type SegGtSource, SemSegEvaluator } from './sem_seg_evaluator';
import { type AccuracyGtSource, AccuracyEvaluator } from './accuracy';

export { AccuracyEvaluator, CocoEvaluator, SemSegEvaluator };

/** The dataset's ground-truth source when it has every member in `members`, else a UserError naming the evaluator. */
function sourceOf<T>(dataset: BuiltDataset, evaluator: string, members: string[]): T {
  const raw = dataset.raw as Record<string, unknown> | undefined;
  const missing = members.filter((m) => raw == null || !(m in raw));
  if (missing.length) throw new UserError(`${evaluator} cannot score this dataset: it lacks ${missing.join(', ')} (expected ${evaluator === 'CocoEvaluator' ? 'a CocoDataset' : evaluator === 'Accuracy' ? 'a classification dataset' : 'a segmentation dataset'})`);
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
  if (!EVALUATORS.has('Accuracy')) {
    EVALUATORS.register('Accuracy', {
      // `metric` is accepted for the tools' --metric (e.g. ['accuracy']) and otherwise unused.
      schema: s.object({ metric: s.array(s.string()).optional(), topk: s.array(s.int({ min: 1 }), { minLength: 1 }).optional() }),
      build: (cfg, ctx) => new AccuracyEvaluator(sourceOf<AccuracyGtSource>(ctx.dataset, 'Accuracy', ['labels']), { topk: cfg.topk }),
      doc: "top-k accuracy in percent (mmpretrain Accuracy): accuracy/top1, accuracy/top5",
    });
  }
}

registerEvaluators();
