// mmseg 0.30 `schedule_40k.py`: SGD lr 0.01 (momentum 0.9, weight decay 5e-4), poly decay (power 0.9,
// min_lr 1e-4) per iteration, 40,000 iterations, checkpoint and mIoU evaluation every 4,000.
// The TinyViM configs replace the optimizer with AdamW and min_lr with 1e-6.
import { defineConfig } from '../../../core/config';

export default defineConfig({
  optimizer: { type: 'SGD', lr: 0.01, momentum: 0.9, weight_decay: 0.0005 },
  optimizer_config: {},
  lr_config: { policy: 'poly', power: 0.9, min_lr: 1e-4, by_epoch: false },
  runner: { type: 'IterBasedRunner', max_iters: 40000 },
  checkpoint_config: { by_epoch: false, interval: 4000 },
  evaluation: { interval: 4000, metric: 'mIoU', save_best: 'mIoU' },
});
