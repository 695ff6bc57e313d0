/** The reference pipelines (shared/notes/reference_recipes.md), as typed transform configs. */
import type { TransformConfig } from './pipeline';

export const IMG_NORM = { mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number], to_rgb: true };

/** mmdet coco_instance.py train pipeline (Mask R-CNN). */
export const COCO_TRAIN_PIPELINE: TransformConfig[] = [
  { type: 'LoadImageFromFile' },
  { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
  { type: 'Resize', img_scale: [1333, 800], keep_ratio: true },
  { type: 'RandomFlip', flip_ratio: 0.5 },
  { type: 'Normalize', ...IMG_NORM },
  { type: 'Pad', size_divisor: 32 },
];

/** Test pipeline (MultiScaleFlipAug with one scale and no flip, unrolled). */
export const COCO_TEST_PIPELINE: TransformConfig[] = [
  { type: 'LoadImageFromFile' },
  { type: 'Resize', img_scale: [1333, 800], keep_ratio: true },
  { type: 'RandomFlip', flip_ratio: 0 },
  { type: 'Normalize', ...IMG_NORM },
  { type: 'Pad', size_divisor: 32 },
];

/** mmseg ade20k.py train pipeline (Semantic FPN), crop 512. */
export const ADE_TRAIN_PIPELINE: TransformConfig[] = [
  { type: 'LoadImageFromFile' },
  { type: 'LoadAnnotations', reduce_zero_label: true },
  { type: 'Resize', img_scale: [2048, 512], ratio_range: [0.5, 2.0] },
  { type: 'RandomCrop', crop_size: [512, 512], cat_max_ratio: 0.75 },
  { type: 'RandomFlip', prob: 0.5 },
  { type: 'PhotoMetricDistortion' },
  { type: 'Normalize', ...IMG_NORM },
  { type: 'Pad', size: [512, 512], pad_val: 0, seg_pad_val: 255 },
];

/** TinyViM's test pipeline: AlignResize (keep ratio, multiple of 32). */
export const ADE_TEST_PIPELINE: TransformConfig[] = [
  { type: 'LoadImageFromFile' },
  { type: 'AlignResize', img_scale: [2048, 512], keep_ratio: true, size_divisor: 32 },
  { type: 'Normalize', ...IMG_NORM },
];
