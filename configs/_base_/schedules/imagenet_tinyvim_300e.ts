// The official TinyViM ImageNet schedule (main.py defaults, train.sh: 8 GPUs x --batch-size 256), as far
// as this engine expresses it; every value and its source is in docs/classification.md.
//   AdamW, lr = 1e-3 * 2048 / 512 = 4e-3 (main.py scales --lr 1e-3 by total batch / 512), eps 1e-8,
//   weight decay 0.025 except on biases and 1-D (norm) parameters (timm create_optimizer),
//   cosine over 300 epochs to min_lr 1e-5, 5 warmup epochs from warmup_lr 1e-6.
// Differences: timm updates the lr once per epoch, mmcv-style warmup here is per iteration
// (5 epochs = 5 * 625 iterations of 2048 images, ratio 1e-6 / 4e-3); the official AGC gradient
// clipping (--clip-grad 0.02 --clip-mode agc) is not implemented (grad_clip off).
import { defineConfig } from '../../../core/config';

export default defineConfig({
  optimizer: { type: 'AdamW', lr: 0.004, eps: 1e-8, weight_decay: 0.025, paramwise_cfg: { bias_decay_mult: 0, norm_decay_mult: 0 } },
  optimizer_config: { grad_clip: null },
  lr_config: { policy: 'CosineAnnealing', min_lr: 1e-5, by_epoch: true, warmup: 'linear', warmup_iters: 3125, warmup_ratio: 0.00025 },
  runner: { type: 'EpochBasedRunner', max_epochs: 300 },
});
