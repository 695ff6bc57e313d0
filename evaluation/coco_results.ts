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
 * One row per detection: bbox as [x, y, w, h] (x2 - x1, no +1, as mmdet 2.x), the label mapped to its
 * COCO category id; segm rows carry the mask as compressed RLE with the box's score.
 */
export function resultsToCoco(results: readonly InstanceResult[], imageIds: number[], labelToCatId: (label: number) => number): CocoResultRows {
  if (results.length !== imageIds.length) throw new RangeError(`resultsToCoco: ${results.length} results for ${imageIds.length} images`);
  const bbox: CocoResult[] = [];
  const segm: CocoResult[] = [];
  results.forEach((r, i) => {
    for (let j = 0; j < r.scores.length; j++) {
      const [x1, y1, x2, y2] = r.bboxes.subarray(j * 4, j * 4 + 4);
      const base = { image_id: imageIds[i], category_id: labelToCatId(r.labels[j]), score: r.scores[j] };
      bbox.push({ ...base, bbox: [x1, y1, x2 - x1, y2 - y1] });
      const m = r.masks?.[j];
      if (m) segm.push({ ...base, segmentation: m });
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

/** COCOeval of the rows against the ground truth, for each requested iou type. */
export function evaluateCocoRows(gt: COCO | CocoDataset | string, rows: CocoResultRows, iouTypes: IouType[]): CocoMetrics {
  const cocoGt = gt instanceof COCO ? gt : new COCO(gt);
  const out: CocoMetrics = { metrics: {}, summaries: {}, evaluators: {} };
  for (const t of iouTypes) {
    const dets = rows[t];
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
 * where stem is `out` without a trailing `.json` (so `--out res.json` and `--out res` name the same).
 */
export function cocoResultPaths(out: string): { bbox: string; segm: string } {
  const stem = out.replace(/\.json$/i, '');
  return { bbox: `${stem}.bbox.json`, segm: `${stem}.segm.json` };
}

/**
 * Writes the rows as COCO results JSON (the lists pycocotools' loadRes reads): the bbox file always,
 * the segm file when `withSegm` (the model has a mask head). Segm rows carry no `bbox`: with one,
 * loadRes would use the box area for the area ranges (mmdet pops `bbox` from its segm rows before
 * COCOeval for that reason), so the files re-score to the printed numbers. Returns the written paths.
 */
export function writeCocoResultFiles(out: string, rows: CocoResultRows, withSegm: boolean): string[] {
  const paths = cocoResultPaths(out);
  mkdirSync(dirname(paths.bbox), { recursive: true });
  // COCO.loadRes adds area/id/iscrowd (and bbox or a box polygon) to the rows it loads, as
  // pycocotools does; the files keep only what results2json writes.
  const bbox = rows.bbox.map(({ image_id, category_id, bbox, score }) => ({ image_id, category_id, bbox, score }));
  writeFileSync(paths.bbox, JSON.stringify(bbox));
  if (!withSegm) return [paths.bbox];
  const segm = rows.segm.map(({ image_id, category_id, segmentation, score }) => ({ image_id, category_id, segmentation, score }));
  writeFileSync(paths.segm, JSON.stringify(segm));
  return [paths.bbox, paths.segm];
}
