// Inference over a dataset feeding an evaluator: the one loop used by the eval hook, tools/eval and
// the demos (detectron2's inference_on_dataset), and the construction of a dataset's evaluator from
// the config through the EVALUATORS registry.
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../core/config_root';
import { UserError } from '../core/errors';
import { type BuiltDataset, type DataLoader, type EvaluationReport, type Evaluator, EVALUATORS, type TrainableModel } from '../core/registry';

/** Frees a batch: its own dispose() if it has one, else every tensor found inside it. */
export function disposeBatch(batch: unknown): void {
  const d = (batch as { dispose?: unknown } | null)?.dispose;
  if (typeof d === 'function') d.call(batch);
  else tf.dispose(batch as tf.TensorContainer);
}

/** The metric list of `evaluation.metric` (a string or a list; [] when unset). */
export function configMetric(cfg: Config): string[] {
  const m = cfg.evaluation?.metric;
  return m === undefined ? [] : Array.isArray(m) ? [...m] : [m];
}

/**
 * Builds the evaluator of `dataset`: the EVALUATORS type named by `evaluation.evaluator`, else the
 * dataset's own `evaluator`, with `metric` and any evaluator options in `extra` (e.g. classwise).
 * Throws UserError when neither names an evaluator.
 */
export function buildEvaluator(cfg: Config, dataset: BuiltDataset, metric: readonly string[], extra: Record<string, unknown> = {}): Evaluator {
  const type = cfg.evaluation?.evaluator ?? dataset.evaluator;
  if (!type) throw new UserError('the dataset names no evaluator (set evaluation.evaluator in the config); it cannot be evaluated');
  const evCfg: Record<string, unknown> = { type, ...extra };
  if (metric.length) evCfg.metric = [...metric];
  return EVALUATORS.build(evCfg as { type: string }, { dataset }, 'evaluation.evaluator');
}

/** An unshuffled, ordered loader over the whole dataset (what evaluation iterates). */
export function evalLoader(dataset: BuiltDataset, opts: { batchSize?: number; workers?: number } = {}): DataLoader {
  const loader = dataset.loader({ batchSize: opts.batchSize ?? 1, workers: opts.workers ?? 0, shuffle: false, seed: 0, dropLast: false });
  loader.setEpoch(0);
  return loader;
}

export interface InferenceOptions<B = unknown, R = unknown> {
  /** Called after each batch with (done, total) batches. */
  onProgress?: (done: number, total: number) => void;
  /** Sees every batch with its predictions before the batch is freed (drawing, per-image output). */
  onBatch?: (batch: B, outputs: readonly R[]) => void | Promise<void>;
}

/**
 * Runs `model.predict` over every batch of `loader` in eval mode, awaiting each batch's predictions,
 * hands them to `evaluator.process` as they arrive, and returns `evaluator.evaluate()`. The model's
 * train/eval mode is restored afterwards. Throws UserError when the model cannot predict.
 */
export async function inferenceOnDataset<B, R>(
  model: TrainableModel<B, R>,
  loader: DataLoader<B>,
  evaluator: Evaluator<B, R>,
  opts: InferenceOptions<B, R> = {},
): Promise<EvaluationReport> {
  if (!model.predict) throw new UserError('the model does not implement predict(); it cannot be evaluated');
  const wasTraining = model.module.training;
  model.module.eval();
  evaluator.reset();
  try {
    let done = 0;
    for await (const batch of loader) {
      try {
        const outputs = await model.predict(batch);
        await evaluator.process(batch, outputs);
        await opts.onBatch?.(batch, outputs);
      } finally {
        disposeBatch(batch);
      }
      opts.onProgress?.(++done, loader.length);
    }
  } finally {
    model.module.train(wasTraining);
  }
  return evaluator.evaluate();
}
