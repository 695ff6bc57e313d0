// Top-k accuracy of a classifier (mmpretrain's `Accuracy` metric, evaluation/metrics/single_label.py):
// a sample is correct at k when its label is among the k highest scores; the metric is the percentage
// of correct samples, reported as `accuracy/top<k>`.
import { UserError } from '../../core/errors';
import type { EvaluationReport, Evaluator } from '../../core/registry';
import type { ClsResult } from '../../structures/classification';

export type { ClsResult };

/** The ground truth of a classification dataset: the label of every dataset index. */
export interface AccuracyGtSource {
  labels: Int32Array;
}

/**
 * What the evaluator needs from a batch: the dataset indices of its images, in batch order, as
 * `indices` or as `metas[i].index` (what distributed evaluation passes on).
 */
export interface ClsBatchLike {
  indices?: readonly number[];
  metas?: readonly ({ index?: number } | undefined)[];
}

/**
 * Rank of `label` in `scores` under torch.topk's order as it behaves on CPU for ties: higher score
 * first, equal scores in ascending class index (torch documents no tie order; this is the stable
 * choice). The label is within the top k exactly when its rank is < k. NaN scores rank last.
 */
export function rankOf(scores: Float32Array, label: number): number {
  const v = scores[label];
  let rank = 0;
  for (let j = 0; j < scores.length; j++) {
    const s = scores[j];
    if (Number.isNaN(v) ? !Number.isNaN(s) || j < label : s > v || (s === v && j < label)) rank++;
  }
  return rank;
}

/**
 * Accumulates per-sample ranks and reports accuracy/top<k> for each k of `topk` (default [1, 5]),
 * in percent. mmpretrain raises when k exceeds the number of classes; here such a k counts every
 * sample as correct (the label is always among all classes) so small test sets still report top-5.
 * Throws UserError when a batch carries no dataset indices or a prediction has no scores.
 */
export class AccuracyEvaluator implements Evaluator<ClsBatchLike, ClsResult> {
  readonly topk: number[];
  private ranks: number[] = [];
  constructor(
    readonly gt: AccuracyGtSource,
    opts: { topk?: number[] } = {},
  ) {
    this.topk = opts.topk ?? [1, 5];
    if (!this.topk.length || this.topk.some((k) => !Number.isInteger(k) || k < 1)) throw new UserError(`Accuracy: topk must be positive integers, got [${this.topk}]`);
  }
  reset(): void {
    this.ranks = [];
  }
  process(inputs: ClsBatchLike, outputs: readonly ClsResult[]): void {
    outputs.forEach((o, i) => {
      const index = inputs.indices?.[i] ?? inputs.metas?.[i]?.index;
      if (index === undefined || !(index >= 0 && index < this.gt.labels.length)) {
        throw new UserError(`Accuracy: prediction ${i} of the batch has no dataset index within 0..${this.gt.labels.length - 1} (batch indices or metas[i].index)`);
      }
      if (!o?.scores?.length) throw new UserError('Accuracy: a prediction has no class scores (expected {scores: Float32Array})');
      this.ranks.push(rankOf(o.scores, this.gt.labels[index]));
    });
  }
  evaluate(): EvaluationReport {
    const n = this.ranks.length;
    const metrics: Record<string, number> = {};
    for (const k of this.topk) metrics[`accuracy/top${k}`] = n ? (100 * this.ranks.filter((r) => r < k).length) / n : 0;
    return { metrics, text: `${n} samples` };
  }
}
