// Inference over a dataset and metric computation (shared by the eval hook and tools/eval).
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors';
import type { BuiltDataset, TrainableModel } from '../core/registry';

/** Frees a batch: its own dispose() if it has one, else every tensor found inside it. */
export function disposeBatch(batch: unknown): void {
  const d = (batch as { dispose?: unknown } | null)?.dispose;
  if (typeof d === 'function') d.call(batch);
  else tf.dispose(batch as tf.TensorContainer);
}

export interface EvaluateOptions {
  metric: string[];
  batchSize?: number;
  workers?: number;
  /** Called after each batch with (done, total) batches. */
  onProgress?: (done: number, total: number) => void;
}

export async function predictAll<R>(model: TrainableModel<unknown, R>, dataset: BuiltDataset<unknown, R>, opts: EvaluateOptions): Promise<R[]> {
  if (!model.predict) throw new UserError('the model does not implement predict(); it cannot be evaluated');
  const wasTraining = model.module.training;
  model.module.eval();
  const results: R[] = [];
  try {
    const loader = dataset.loader({ batchSize: opts.batchSize ?? 1, workers: opts.workers ?? 0, shuffle: false, seed: 0 });
    loader.setEpoch(0);
    let done = 0;
    for await (const batch of loader) {
      try {
        results.push(...(await model.predict(batch)));
      } finally {
        disposeBatch(batch);
      }
      opts.onProgress?.(++done, loader.length);
    }
  } finally {
    model.module.train(wasTraining);
  }
  return results;
}

/** Runs the model over the dataset and returns the dataset's metrics (plus the raw results). */
export async function evaluateModel<R>(model: TrainableModel<unknown, R>, dataset: BuiltDataset<unknown, R>, opts: EvaluateOptions): Promise<{ metrics: Record<string, number>; results: R[] }> {
  if (!dataset.evaluate) throw new UserError('the dataset does not implement evaluate(); it cannot compute metrics');
  const results = await predictAll(model, dataset, opts);
  const metrics = await dataset.evaluate(results, { metric: opts.metric });
  return { metrics, results };
}
