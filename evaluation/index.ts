// Public API of the evaluation package (pure TypeScript; no tensors, nothing else of ours).

import { classwiseTable, perCategory, type CategoryAP } from './classwise';
import { COCO } from './coco';
import { COCOeval, type IouType } from './cocoeval';

export * as maskUtils from './mask';
export type { Rle, RleObject, Bbox } from './mask';
export { COCO } from './coco';
export type { CocoAnnotation, CocoCategory, CocoDataset, CocoImage, CocoResult, Segmentation } from './coco';
export { COCOeval, Params } from './cocoeval';
export type { EvalImg, EvalResult, IouType } from './cocoeval';
export { perCategory, classwiseTable, asciiTable } from './classwise';
export type { CategoryAP } from './classwise';
export { EvalInputError, ResultsMismatchError } from './errors';
export { readJsonFile, parseJsonText } from './json_file';
export { IoUAccumulator, intersectAndUnion, totalAreaToMetrics, miouTable } from './miou';
export type { SegMetrics, IoUAccumulatorOptions } from './miou';
export { pairwiseSum, npMean, npNanMean, pyFixed } from './numeric';

export interface CocoEvalOutput {
  /** The 12 COCOeval stats. */
  stats: number[];
  /** The 12 printed lines, joined by '\n' (no trailing newline). */
  summary: string;
  perCategory: CategoryAP[];
  /** mmdetection's classwise table. */
  classwiseTable: string;
}

/**
 * Evaluates detection results (COCO results format) against a GT set: loadRes, evaluate,
 * accumulate, summarize. Results are modified in place (id/area/iscrowd added, as pycocotools).
 * Throws ResultsMismatchError when a result image id is not in the GT.
 */
export function evaluateCocoResults(gt: COCO, results: object[], iouType: IouType): CocoEvalOutput {
  const dt = gt.loadRes(results as unknown[]);
  const E = new COCOeval(gt, dt, iouType);
  E.evaluate();
  E.accumulate();
  const summary = E.summarize();
  const rows = perCategory(E);
  return { stats: E.stats, summary, perCategory: rows, classwiseTable: classwiseTable(rows) };
}
export { readLabelPng } from './label_png';
export type { LabelMap } from './label_png';
export { evaluateLabelDirs } from './seg_files';
