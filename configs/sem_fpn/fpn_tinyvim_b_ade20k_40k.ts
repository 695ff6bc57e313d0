// Semantic FPN with TinyViM-B on ADE20K, 40k iterations: TinyViM's segmentation recipe
// (fpn_tinyvim_{b,l}_ade20k_40k.py): AdamW lr 2e-4 (1e-4 x 2), weight decay 1e-4, poly decay power 0.9
// down to min_lr 1e-6, 40,000 iterations, checkpoint + mIoU every 4,000, 4 images per batch.
// The recipe ran 8 processes x 4 images (batch 32); this single process trains with batch 4, so the
// same schedule sees 8x fewer images. The backbone is fully trainable and should start from ImageNet
// weights: init_cfg below points at checkpoints/tinyvim_<v>_imagenet.pth (the official ImageNet .pth).
import { defineConfig } from '../../core/config';

export default defineConfig({
  _base_: ['../_base_/models/fpn_tinyvim.ts', '../_base_/datasets/ade20k.ts', '../_base_/schedules/schedule_40k.ts', '../_base_/seg_default_runtime.ts'],
  model: {
    backbone: { type: 'TinyViM', layers: [4, 3, 10, 5], embed_dims: [48, 96, 192, 384], fork_feat: true,
      // ImageNet weights as the recipe; loaded non-strictly; a missing file warns and trains from scratch.
      init_cfg: { type: 'Pretrained', checkpoint: 'checkpoints/tinyvim_b_imagenet.pth' },
    },
    neck: { in_channels: [48, 96, 192, 384] },
  },
  data: { samples_per_gpu: 4 },
  optimizer: { _delete_: true, type: 'AdamW', lr: 0.0002, weight_decay: 0.0001 },
  optimizer_config: { grad_clip: null },
  lr_config: { policy: 'poly', power: 0.9, min_lr: 1e-6, by_epoch: false },
  log_config: { interval: 50 },
});
