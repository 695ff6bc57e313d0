// Mask R-CNN + FPN with TinyViM-S on COCO, 1x schedule: TinyViM's detection recipe
// (mask_rcnn_tinyvim_{b,l}_fpn_1x_coco.py): AdamW lr 2e-4, weight decay 0.05, no gradient clipping,
// warm-up 500 iterations from ratio 1e-6, lr x0.1 after epochs 8 and 11, 12 epochs, 2 images per batch.
// The backbone is fully trainable (BN in train mode) and starts from ImageNet weights, loaded
// non-strictly; when the checkpoint file is absent, training starts from scratch with a warning.
import { defineConfig } from '../../core/config';

export default defineConfig({
  _base_: ['../_base_/models/mask_rcnn_tinyvim_fpn.ts', '../_base_/datasets/coco_instance.ts', '../_base_/schedules/schedule_1x.ts', '../_base_/default_runtime.ts'],
  model: {
    backbone: {
      type: 'TinyViM',
      layers: [3, 3, 9, 6],
      embed_dims: [48, 64, 168, 224],
      fork_feat: true,
      init_cfg: { type: 'Pretrained', checkpoint: 'checkpoints/tinyvim_s_imagenet.pth' },
    },
    neck: { in_channels: [48, 64, 168, 224] },
  },
  data: { samples_per_gpu: 2 },
  optimizer: { _delete_: true, type: 'AdamW', lr: 0.0002, betas: [0.9, 0.999], weight_decay: 0.05 },
  optimizer_config: { grad_clip: null },
});
