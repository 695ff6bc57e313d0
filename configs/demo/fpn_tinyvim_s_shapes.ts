// Demo: Semantic FPN with TinyViM-S trained from scratch on the generated shapes dataset in ADE20K
// layout (make it with `tools/make_dataset shapes-ade --out data/shapes_ade`). The model, pipeline
// kinds and schedule kind are the ADE20K recipe's, scaled to a 2-core CPU:
// - labels: 0 "other" is a class here (reduce_zero_label false, 5 classes), so the model must also
//   separate shapes from the textured background; ADE20K itself ignores its 0;
// - 128x128 crops from images resized to (160, 128) x [0.75, 1.25]; test: AlignResize to (160, 128);
// - FPN 128 channels and head 64 channels (recipe: 256 / 128) to fit the time budget;
// - AdamW lr 1e-3 (no ImageNet weights here, so a larger step than the recipe's 2e-4), weight decay
//   1e-4, poly decay to 1e-6; evaluation (mIoU on the 60 validation images) at the end.
import { defineConfig } from '../../core/config';

const dataRoot = 'data/shapes_ade';
const classes = ['other', 'rectangle', 'ellipse', 'triangle', 'diamond'];
const imgNormCfg = { mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number], to_rgb: true };
const crop: [number, number] = [128, 128];

const trainPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'LoadAnnotations', reduce_zero_label: false },
  { type: 'Resize', img_scale: [160, 128], ratio_range: [0.75, 1.25] },
  { type: 'RandomCrop', crop_size: crop, cat_max_ratio: 0.75 },
  { type: 'RandomFlip', prob: 0.5 },
  { type: 'PhotoMetricDistortion' },
  { type: 'Normalize', ...imgNormCfg },
  { type: 'Pad', size: crop, pad_val: 0, seg_pad_val: 255 },
];
const testPipeline = [
  { type: 'LoadImageFromFile' },
  { type: 'AlignResize', img_scale: [160, 128], keep_ratio: true, size_divisor: 32 },
  { type: 'Normalize', ...imgNormCfg },
];
const maxIters = 200;

export default defineConfig({
  _base_: ['../_base_/models/fpn_tinyvim.ts', '../_base_/seg_default_runtime.ts'],
  model: {
    backbone: { type: 'TinyViM', layers: [3, 3, 9, 6], embed_dims: [48, 64, 168, 224], fork_feat: true },
    neck: { in_channels: [48, 64, 168, 224], out_channels: 128 },
    decode_head: { in_channels: [128, 128, 128, 128], channels: 64, num_classes: classes.length, norm_cfg: { type: 'BN', requires_grad: true } },
  },
  data: {
    samples_per_gpu: 4,
    workers_per_gpu: 1,
    train: {
      type: 'RepeatDataset',
      times: 50,
      dataset: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/training', ann_dir: 'annotations/training', classes, reduce_zero_label: false, pipeline: trainPipeline },
    },
    val: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/validation', ann_dir: 'annotations/validation', classes, reduce_zero_label: false, pipeline: testPipeline },
    test: { type: 'ADE20KDataset', data_root: dataRoot, img_dir: 'images/validation', ann_dir: 'annotations/validation', classes, reduce_zero_label: false, pipeline: testPipeline },
  },
  optimizer: { type: 'AdamW', lr: 0.001, weight_decay: 0.0001 },
  optimizer_config: { grad_clip: null },
  lr_config: { policy: 'poly', power: 0.9, min_lr: 1e-6, by_epoch: false },
  runner: { type: 'IterBasedRunner', max_iters: maxIters },
  checkpoint_config: { by_epoch: false, interval: maxIters },
  evaluation: { interval: maxIters, metric: 'mIoU' },
  log_config: { interval: 10 },
  seed: 0,
});
