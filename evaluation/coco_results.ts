// Detector results -> COCO results JSON (mmdet's results2json) and COCO bbox/segm metrics with
// mmdet's names (bbox_mAP, bbox_mAP_50, ..., segm_mAP_l).
import { mkdirSync, writeFileSync } from '#platform/fs';
import { dirname } from '#platform/path';
import type { InstanceResult } from '../structures/results';
import { COCO, type CocoDataset, type CocoResult } from './coco';
import { COCOeval, type IouType } from './cocoeval';

export interface CocoResultRows {
  bbox: CocoResult[];
  segm: CocoResult[];
}

/**
 * One row per detection, as mmdet 2.x's _det2json/_segm2json write them (same keys, same order):
 * bbox rows {image_id, bbox, score, category_id} with bbox [x, y, w, h] (x2 - x1, no +1); segm rows
 * {image_id, bbox, score, category_id, segmentation} with the mask as compressed RLE. The segm rows'
 * `bbox` matters: pycocotools' loadRes then takes its bbox branch, so a mask result's area is the
 * box's w*h (used by the small/medium/large ranges), exactly as in mmdet's evaluation.
 */
export function resultsToCoco(results: readonly InstanceResult[], imageIds: number[], labelToCatId: (label: number) => number): CocoResultRows {
  if (results.length !== imageIds.length) throw new RangeError(`resultsToCoco: ${results.length} results for ${imageIds.length} images`);
  const bbox: CocoResult[] = [];
  const segm: CocoResult[] = [];
  results.forEach((r, i) => {
    for (let j = 0; j < r.scores.length; j++) {
      const [x1, y1, x2, y2] = r.bboxes.subarray(j * 4, j * 4 + 4);
      const row = { image_id: imageIds[i], bbox: [x1, y1, x2 - x1, y2 - y1], score: r.scores[j], category_id: labelToCatId(r.labels[j]) };
      bbox.push({ ...row, bbox: [...row.bbox] });
      const m = r.masks?.[j];
      if (m) segm.push({ ...row, bbox: [...row.bbox], segmentation: m });
    }
  });
  return { bbox, segm };
}

export interface CocoMetrics {
  metrics: Record<string, number>;
  /** The printed COCOeval summaries per iou type. */
  summaries: Record<string, string>;
  evaluators: Partial<Record<IouType, COCOeval>>;
}

const STAT_NAMES = ['mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'];

/**
 * COCOeval of the rows against the ground truth, for each requested iou type. As mmdet >= 2.12's
 * evaluate_det_segm, the segm rows are evaluated without their `bbox` (with it, pycocotools' loadRes
 * would take the box area for the small/medium/large ranges); the rows themselves are not changed.
 */
export function evaluateCocoRows(gt: COCO | CocoDataset | string, rows: CocoResultRows, iouTypes: IouType[]): CocoMetrics {
  const cocoGt = gt instanceof COCO ? gt : new COCO(gt);
  const out: CocoMetrics = { metrics: {}, summaries: {}, evaluators: {} };
  for (const t of iouTypes) {
    const dets = t === 'segm' ? rows.segm.map(({ bbox: _b, ...rest }) => rest as CocoResult) : rows[t];
    if (dets.length === 0) {
      // pycocotools cannot load an empty result list; mmdet reports the metric as missing. We report 0.
      for (const n of STAT_NAMES) out.metrics[`${t}_${n}`] = 0;
      out.summaries[t] = `${t}: no detections`;
      continue;
    }
    const E = new COCOeval(cocoGt, cocoGt.loadRes(dets), t);
    E.evaluate();
    E.accumulate();
    out.summaries[t] = E.summarize();
    STAT_NAMES.forEach((n, k) => (out.metrics[`${t}_${n}`] = E.stats[k]));
    out.evaluators[t] = E;
  }
  return out;
}

/**
 * The results files of mmdet's results2json for `out`: `<stem>.bbox.json` and `<stem>.segm.json`,
 * where stem is `out` without a trailing `.json`, `.pkl` or `.pickle` (`--out res.json`, `--out res.pkl`
 * and `--out res` name the same files).
 */
export function cocoResultPaths(out: string): { bbox: string; segm: string } {
  // mmdetection users pass `--out results.pkl`; the stem drops a .json/.pkl/.pickle extension either way.
  const stem = out.replace(/\.(json|pkl|pickle)$/i, '');
  return { bbox: `${stem}.bbox.json`, segm: `${stem}.segm.json` };
}

/**
 * Writes the rows as COCO results JSON as mmdet 2.x's results2json does (_det2json / _segm2json): the
 * bbox file {image_id, bbox, score, category_id} always, the segm file {image_id, bbox, score,
 * category_id, segmentation} when `withSegm` (the model has a mask head). The segm file keeps `bbox`
 * like mmdet's; mmdet's own evaluation pops it (evaluateCocoRows does too), so pycocotools run on the
 * file (tools/coco_eval) uses box areas for the small/medium/large segm ranges and can differ there
 * from the printed numbers, exactly as with mmdet's files; the all-area figures agree. Returns the paths.
 */
export function writeCocoResultFiles(out: string, rows: CocoResultRows, withSegm: boolean): string[] {
  const paths = cocoResultPaths(out);
  mkdirSync(dirname(paths.bbox), { recursive: true });
  // COCO.loadRes adds area/id/iscrowd (and bbox or a box polygon) to the rows it loads, as
  // pycocotools does; the files keep only what results2json writes.
  const bbox = rows.bbox.map(({ image_id, bbox, score, category_id }) => ({ image_id, bbox, score, category_id }));
  writeFileSync(paths.bbox, JSON.stringify(bbox));
  if (!withSegm) return [paths.bbox];
  const segm = rows.segm.map(({ image_id, bbox, score, category_id, segmentation }) => ({ image_id, bbox, score, category_id, segmentation }));
  writeFileSync(paths.segm, JSON.stringify(segm));
  return [paths.bbox, paths.segm];
}
