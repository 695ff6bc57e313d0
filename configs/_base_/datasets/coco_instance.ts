// COCO 2017 instance segmentation (mmdet 2.28 `coco_instance.py`): 1333x800 keep-ratio resize,
// horizontal flip 0.5 for training, ImageNet normalisation, padding to a multiple of 32.
import { defineConfig } from '../../../core/config';

const dataRoot = 'data/coco/';
const imgNormCfg = { mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number], to_rgb: true };

const trainPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
  { type: 'Resize', img_scale: [1333, 800], keep_ratio: true },
  { type: 'RandomFlip', flip_ratio: 0.5 },
  { type: 'Normalize', ...imgNormCfg },
  { type: 'Pad', size_divisor: 32 },
];
// mmdet wraps the test steps in MultiScaleFlipAug(img_scale=(1333, 800), flip=False): one scale, no flip.
const testPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'Resize', img_scale: [1333, 800], keep_ratio: true },
  { type: 'Normalize', ...imgNormCfg },
  { type: 'Pad', size_divisor: 32 },
];

export default defineConfig({
  data: {
    samples_per_gpu: 2,
    workers_per_gpu: 2,
    // data_root is the one place the root is set: ann_file and img_prefix are relative to it, so
    // `--cfg-options data.train.data_root=...` (or browse_dataset --data-root) moves the whole split.
    train: { type: 'CocoDataset', data_root: dataRoot, ann_file: 'annotations/instances_train2017.json', img_prefix: 'train2017/', pipeline: trainPipeline },
    val: { type: 'CocoDataset', data_root: dataRoot, ann_file: 'annotations/instances_val2017.json', img_prefix: 'val2017/', pipeline: testPipeline, test_mode: true },
    test: { type: 'CocoDataset', data_root: dataRoot, ann_file: 'annotations/instances_val2017.json', img_prefix: 'val2017/', pipeline: testPipeline, test_mode: true },
  },
  evaluation: { interval: 1, metric: ['bbox', 'segm'] },
});
