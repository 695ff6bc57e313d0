// Detector results -> COCO results JSON (xywh boxes, compressed RLE masks, category ids through the
// label mapping) and COCO metrics: exact predictions score 1, a wrong class scores 0, none scores 0.
import { describe, expect, it } from 'vitest';
import { resultsToCoco, evaluateCocoRows } from '../evaluation/coco_results';
import { bitmapToRle } from '../structures/mask_rle';
import { decodeRowMajor, fromObject } from '../evaluation/mask';
import { instanceResultJson, type InstanceResult } from '../structures/results';

const H = 20;
const W = 30;
function boxMask(x1: number, y1: number, x2: number, y2: number): Uint8Array {
  const m = new Uint8Array(H * W);
  for (let y = y1; y < y2; y++) m.fill(1, y * W + x1, y * W + x2);
  return m;
}
const poly = (x1: number, y1: number, x2: number, y2: number) => [[x1, y1, x2, y1, x2, y2, x1, y2]];
const gt = {
  images: [
    { id: 7, file_name: 'a.jpg', height: H, width: W },
    { id: 9, file_name: 'b.jpg', height: H, width: W },
  ],
  annotations: [
    { id: 1, image_id: 7, category_id: 3, bbox: [2, 3, 10, 8], area: 80, iscrowd: 0, segmentation: poly(2, 3, 12, 11) },
    { id: 2, image_id: 9, category_id: 5, bbox: [10, 4, 12, 10], area: 120, iscrowd: 0, segmentation: poly(10, 4, 22, 14) },
  ],
  categories: [
    { id: 3, name: 'a' },
    { id: 5, name: 'b' },
  ],
};
const catOf = (l: number) => [3, 5][l];

function result(boxes: number[][], labels: number[]): InstanceResult {
  return {
    bboxes: Float32Array.from(boxes.flat()),
    scores: Float32Array.from(boxes.map((_, i) => 0.9 - 0.1 * i)),
    labels: Int32Array.from(labels),
    masks: boxes.map(([x1, y1, x2, y2]) => bitmapToRle(boxMask(x1, y1, x2, y2), H, W)),
  };
}

describe('Mask R-CNN results to COCO', () => {
  it('instanceResultJson gives plain lists', () => {
    const r = result([[2, 3, 12, 11]], [1]);
    const j = instanceResultJson(r);
    expect(j.bboxes).toEqual([[2, 3, 12, 11]]);
    expect(j.labels).toEqual([1]);
    expect(j.scores[0]).toBeCloseTo(0.9, 6);
    expect(j.masks).toHaveLength(1);
  });

  it('bitmapToRle encodes row-major bitmaps as pycocotools RLE', () => {
    const m = boxMask(2, 3, 12, 11);
    const rle = bitmapToRle(m, H, W);
    expect(rle.size).toEqual([H, W]);
    expect(typeof rle.counts).toBe('string');
    expect(decodeRowMajor(fromObject(rle))).toEqual(m);
  });

  it('maps labels to category ids, boxes to xywh, and exact predictions score mAP 1', () => {
    const results = [result([[2, 3, 12, 11]], [0]), result([[10, 4, 22, 14]], [1])];
    const rows = resultsToCoco(results, [7, 9], catOf);
    expect(rows.bbox).toHaveLength(2);
    expect(rows.bbox[0]).toMatchObject({ image_id: 7, category_id: 3, bbox: [2, 3, 10, 8] });
    expect(rows.segm[1]).toMatchObject({ image_id: 9, category_id: 5 });
    // mmdet _det2json / _segm2json: same keys in the same order; segm rows carry the box too.
    expect(Object.keys(rows.bbox[0])).toEqual(['image_id', 'bbox', 'score', 'category_id']);
    expect(Object.keys(rows.segm[0])).toEqual(['image_id', 'bbox', 'score', 'category_id', 'segmentation']);
    expect(rows.segm[1].bbox).toEqual([10, 4, 12, 10]);
    const { metrics } = evaluateCocoRows(gt as never, rows, ['bbox', 'segm']);
    // mmdet's evaluate_det_segm pops bbox from segm rows before loadRes; the rows keep it (for the file).
    expect(Object.keys(rows.segm[0])).toEqual(['image_id', 'bbox', 'score', 'category_id', 'segmentation']);
    const popped = { bbox: rows.bbox, segm: rows.segm.map(({ bbox: _b, ...r }) => r) } as typeof rows;
    expect(evaluateCocoRows(gt as never, popped, ['segm']).metrics).toEqual(evaluateCocoRows(gt as never, rows, ['segm']).metrics);
    expect(metrics.bbox_mAP).toBeCloseTo(1, 6);
    expect(metrics.segm_mAP).toBeCloseTo(1, 6);
    expect(metrics.bbox_mAP_50).toBeCloseTo(1, 6);
  });

  it('a wrong class scores 0; no detections at all report 0', () => {
    const swapped = resultsToCoco([result([[2, 3, 12, 11]], [1]), result([[10, 4, 22, 14]], [0])], [7, 9], catOf);
    expect(evaluateCocoRows(gt as never, swapped, ['bbox']).metrics.bbox_mAP).toBe(0);
    const none = resultsToCoco([result([], []), result([], [])], [7, 9], catOf);
    expect(none.bbox).toEqual([]);
    expect(evaluateCocoRows(gt as never, none, ['bbox', 'segm']).metrics).toMatchObject({ bbox_mAP: 0, segm_mAP_50: 0 });
  });
});
