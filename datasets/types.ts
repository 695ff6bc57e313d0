/**
 * Typed containers of the data side. Typed arrays, not tensors: the model side
 * turns batches into tensors.
 */
import type { Segmentation } from './masks';

/** One COCO annotation after category mapping (label is contiguous 0..K-1). */
export interface RawInstance {
  bbox: [number, number, number, number]; // x1, y1, x2, y2 (COCO xywh converted)
  label: number;
  iscrowd: boolean;
  segmentation?: Segmentation;
}

/**
 * What a dataset hands to the pipeline: serialisable (it crosses to worker
 * threads), cheap, with no pixels yet.
 */
export interface RawSample {
  task: 'det' | 'seg';
  index: number;
  filename: string; // full path of the image
  ori_filename: string; // path as written in the annotation / relative to img_dir
  height?: number; // from the annotation file, when known
  width?: number;
  instances?: RawInstance[]; // detection
  seg_map?: string; // full path of a label map (segmentation)
  num_classes?: number; // for label range checks
  reduce_zero_label?: boolean;
}

export interface ImgMeta {
  filename: string;
  ori_filename: string;
  ori_shape: [number, number, number];
  img_shape: [number, number, number];
  pad_shape: [number, number, number];
  scale_factor: [number, number, number, number]; // w, h, w, h
  flip: boolean;
  flip_direction: 'horizontal' | 'vertical' | null;
  img_norm_cfg?: { mean: number[]; std: number[]; to_rgb: boolean };
}

/**
 * The mutable state passed through transforms (mmdet's `results` dict, typed).
 * `img` is uint8 until Normalize, float32 after. All images are HWC, 3 channels.
 */
export interface PipelineState {
  raw: RawSample;
  img?: Uint8Array | Float32Array;
  height: number;
  width: number;
  channel_order: 'rgb' | 'bgr';
  meta: ImgMeta;
  /** Target (w, h) chosen by a Resize, kept for the following resizes of masks/seg. */
  scale?: [number, number];
  gt_bboxes?: Float32Array; // [n*4] x1 y1 x2 y2
  gt_labels?: Int32Array;
  gt_bboxes_ignore?: Float32Array; // [m*4]
  /** One HxW 0/1 bitmap per gt box, at the current image size. */
  gt_masks?: Uint8Array[];
  gt_semantic_seg?: Uint8Array; // HxW
}

/** A finished sample, the unit the loader collates. */
export interface DetSample {
  kind: 'det';
  img: Float32Array; // HWC, normalised
  shape: [number, number, number];
  meta: ImgMeta;
  gt_bboxes?: Float32Array;
  gt_labels?: Int32Array;
  gt_bboxes_ignore?: Float32Array;
  /** Bitmaps of size meta.pad_shape[0] x meta.pad_shape[1]. */
  gt_masks?: Uint8Array[];
}

export interface SegSample {
  kind: 'seg';
  img: Float32Array;
  shape: [number, number, number];
  meta: ImgMeta;
  gt_semantic_seg?: Uint8Array; // shape[0] x shape[1]
}

export type Sample = DetSample | SegSample;

export interface DetBatch {
  kind: 'det';
  /** NHWC, padded (value 0) to the largest image rounded up to size_divisor. */
  data: Float32Array;
  shape: [number, number, number, number];
  metas: ImgMeta[];
  gt_bboxes?: Float32Array[];
  gt_labels?: Int32Array[];
  gt_bboxes_ignore?: Float32Array[];
  /** Per image: bitmaps at that image's pad_shape (not the batch size, as mmdet). */
  gt_masks?: Uint8Array[][];
}

export interface SegBatch {
  kind: 'seg';
  data: Float32Array;
  shape: [number, number, number, number];
  metas: ImgMeta[];
  /** N x H x W, padded with 255 (ignore). */
  gt_semantic_seg?: Uint8Array;
}

export type Batch = DetBatch | SegBatch;

export function newState(raw: RawSample): PipelineState {
  return {
    raw,
    height: 0,
    width: 0,
    channel_order: 'rgb',
    meta: {
      filename: raw.filename,
      ori_filename: raw.ori_filename,
      ori_shape: [0, 0, 3],
      img_shape: [0, 0, 3],
      pad_shape: [0, 0, 3],
      scale_factor: [1, 1, 1, 1],
      flip: false,
      flip_direction: null,
    },
  };
}
