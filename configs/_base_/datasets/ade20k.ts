// ADE20K (mmseg 0.30 `ade20k.py`) as TinyViM trained on it: 512x512 crops from images resized to
// scale (2048, 512) x [0.5, 2.0], cat_max_ratio 0.75, flip, photometric distortion, padding to the
// crop (image 0, label 255); labels with reduce_zero_label (0 "other" -> 255 ignored, k -> k-1).
// TinyViM's test pipeline uses AlignResize (keep ratio, sides a multiple of 32) instead of mmseg's
// Resize, and wraps the training set in RepeatDataset(times=50).
import { defineConfig } from '../../../core/config';

const dataRoot = 'data/ade/ADEChallengeData2016';
const imgNormCfg = { mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number], to_rgb: true };
const cropSize: [number, number] = [512, 512];

const trainPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'LoadAnnotations', reduce_zero_label: true },
  { type: 'Resize', img_scale: [2048, 512], ratio_range: [0.5, 2.0] },
  { type: 'RandomCrop', crop_size: cropSize, cat_max_ratio: 0.75 },
  { type: 'RandomFlip', prob: 0.5 },
  { type: 'PhotoMetricDistortion' },
  { type: 'Normalize', ...imgNormCfg },
  { type: 'Pad', size: cropSize, pad_val: 0, seg_pad_val: 255 },
];
// mmseg wraps these in MultiScaleFlipAug(img_scale=(2048, 512), flip=False): one scale, no flip.
const testPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'AlignResize', img_scale: [2048, 512], keep_ratio: true, size_divisor: 32 },
  { type: 'Normalize', ...imgNormCfg },
];

export default defineConfig({
  data: {
    samples_per_gpu: 4,
    workers_per_gpu: 4,
    train: {
      type: 'RepeatDataset',
      times: 50,
      dataset: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/training', ann_dir: 'annotations/training', pipeline: trainPipeline },
    },
    val: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/validation', ann_dir: 'annotations/validation', pipeline: testPipeline },
    test: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/validation', ann_dir: 'annotations/validation', pipeline: testPipeline },
  },
});
