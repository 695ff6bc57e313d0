// Prediction structures: what models return and what evaluators, visualisation and tools read.
// They live here (not in models/ or evaluation/) so that both sides import them and neither imports
// the other (detectron2's structures/ plays this role). Plain typed arrays, no tensors: a result
// survives the batch that produced it.
import type { RleObject } from '../evaluation/mask';

export type { RleObject };

/**
 * Detections of one image in original-image coordinates, masks as bitmaps (what the RoI head
 * produces and what drawing reads).
 */
export interface DetectionResult {
  /** [n*4] x1, y1, x2, y2 in original-image pixels. */
  bboxes: Float32Array;
  /** [n] classification scores. */
  scores: Float32Array;
  /** [n] contiguous labels 0..num_classes-1. */
  labels: Int32Array;
  /** One 0/1 bitmap of the original image size (row-major, height x width) per detection, when the model has a mask head. */
  masks?: Uint8Array[];
}

/**
 * Detections of one image with masks as COCO compressed RLE (mmdet's results after
 * encode_mask_results): what MaskRCNN.predict returns, small enough to keep for a whole val set.
 */
export interface InstanceResult {
  /** [n*4] x1, y1, x2, y2 in original-image pixels. */
  bboxes: Float32Array;
  scores: Float32Array;
  labels: Int32Array;
  /** One RLE ({size: [h, w], counts}) per detection, when the model has a mask head. */
  masks?: RleObject[];
}

/** One image's semantic segmentation: class indices at the original image size, row-major (height x width). */
export interface SegResult {
  filename: string;
  height: number;
  width: number;
  sem_seg: Uint8Array | Int32Array;
}

/** JSON form of an instance result: boxes as [x1, y1, x2, y2] lists, plain score/label lists, RLE masks. */
export function instanceResultJson(r: InstanceResult): { bboxes: number[][]; scores: number[]; labels: number[]; masks?: RleObject[] } {
  const out: { bboxes: number[][]; scores: number[]; labels: number[]; masks?: RleObject[] } = {
    bboxes: Array.from({ length: r.scores.length }, (_, j) => Array.from(r.bboxes.subarray(j * 4, j * 4 + 4))),
    scores: Array.from(r.scores),
    labels: Array.from(r.labels),
  };
  if (r.masks) out.masks = r.masks;
  return out;
}

/** True for a detection result (bitmap or RLE masks), false for a segmentation result. */
export function isInstanceResult(r: unknown): r is InstanceResult | DetectionResult {
  return r !== null && typeof r === 'object' && (r as InstanceResult).bboxes instanceof Float32Array && (r as InstanceResult).scores instanceof Float32Array;
}

/** True for a semantic segmentation result. */
export function isSegResult(r: unknown): r is SegResult {
  return r !== null && typeof r === 'object' && 'sem_seg' in r && typeof (r as SegResult).width === 'number';
}
