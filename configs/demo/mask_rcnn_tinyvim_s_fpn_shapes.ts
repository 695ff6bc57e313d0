// The demo: Mask R-CNN + FPN with a TinyViM-S backbone (from scratch), trained on the generated
// shapes-coco dataset (tools/make_dataset shapes-coco) within ~15 minutes on a 2-core CPU (wasm).
//
// What is lightened against the recipe (configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts) and why:
// the full heads cost tens of GMACs per training image, far beyond a 2-core CPU in 15 minutes.
// - images: 128 px long side instead of 1333x800 (the shapes are 10-100 px);
// - FPN / RPN channels 64 instead of 256;
// - bbox head: fc 256 instead of 1024;
// - mask head: 2 convs of 64 channels instead of 4 of 256;
// - RoIs sampled per image: 64 instead of 512 (same 25% positives); proposals: 600 -> 300 in
//   training, 600 -> 300 at test (instead of 2000/1000 -> 1000);
// - schedule: 300 iterations of batch 2 (1 epoch = 300 iterations over the 600 training images),
//   AdamW lr 1e-3 (the recipe's 2e-4 is tuned for ImageNet-initialised backbones and 90k iterations),
//   50 warm-up iterations, lr x0.1 after 240; gradient norm clipped at 10 against early spikes.
// Everything else (anchors, assigners, coders, losses, RoIAlign, level mapping, test thresholds) is
// the recipe's.
import { defineConfig } from '../../core/config';

const dataRoot = 'data/shapes_coco/';
const imgNormCfg = { mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number], to_rgb: true };
const size: [number, number] = [128, 128];
const C = 64;
const numClasses = 4;

export default defineConfig({
  _base_: ['../_base_/models/mask_rcnn_tinyvim_fpn.ts', '../_base_/default_runtime.ts'],
  model: {
    backbone: { _delete_: true, type: 'TinyViM', layers: [3, 3, 9, 6], embed_dims: [48, 64, 168, 224], fork_feat: true },
    neck: { in_channels: [48, 64, 168, 224], out_channels: C },
    rpn_head: { in_channels: C, feat_channels: C },
    roi_head: {
      bbox_roi_extractor: { out_channels: C },
      bbox_head: { in_channels: C, fc_out_channels: 256, num_classes: numClasses },
      mask_roi_extractor: { out_channels: C },
      mask_head: { num_convs: 2, in_channels: C, conv_out_channels: C, num_classes: numClasses },
    },
    train_cfg: {
      rpn_proposal: { nms_pre: 600, max_per_img: 300 },
      rcnn: { sampler: { num: 64 } },
    },
    test_cfg: {
      rpn: { nms_pre: 600, max_per_img: 300 },
    },
  },
  data: {
    samples_per_gpu: 2,
    workers_per_gpu: 1,
    train: {
      type: 'CocoDataset',
      data_root: dataRoot,
      ann_file: 'annotations/instances_train.json',
      img_prefix: 'train/',
      pipeline: [
        { type: 'LoadImageFromFile' },
        { type: 'LoadAnnotations', with_bbox: true, with_mask: true },
        { type: 'Resize', img_scale: size, keep_ratio: true },
        { type: 'RandomFlip', flip_ratio: 0.5 },
        { type: 'Normalize', ...imgNormCfg },
        { type: 'Pad', size_divisor: 32 },
      ],
    },
    val: {
      type: 'CocoDataset',
      data_root: dataRoot,
      ann_file: 'annotations/instances_val.json',
      img_prefix: 'val/',
      test_mode: true,
      pipeline: [
        { type: 'LoadImageFromFile' },
        { type: 'Resize', img_scale: size, keep_ratio: true },
        { type: 'Normalize', ...imgNormCfg },
        { type: 'Pad', size_divisor: 32 },
      ],
    },
  },
  optimizer: { type: 'AdamW', lr: 0.001, betas: [0.9, 0.999], weight_decay: 0.05 },
  optimizer_config: { grad_clip: { max_norm: 10 } },
  lr_config: { policy: 'step', warmup: 'linear', warmup_iters: 50, warmup_ratio: 0.001, step: [240], by_epoch: false },
  runner: { type: 'IterBasedRunner', max_iters: 300 },
  checkpoint_config: { interval: 300, by_epoch: false },
  // COCO bbox + segm on the val split after training (tools/demo runs this evaluation itself).
  evaluation: { interval: 300, by_epoch: false, metric: ['bbox', 'segm'] },
  log_config: { interval: 20, hooks: [{ type: 'TextLoggerHook', by_epoch: false }] },
  seed: 0,
});
