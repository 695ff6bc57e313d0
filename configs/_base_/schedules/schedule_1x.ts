// mmdet 1x schedule: 12 epochs, step decay (x0.1) after epochs 8 and 11, linear warm-up over 500 iterations.
// warmup_ratio is TinyViM's 1e-6 (upstream mmdet uses 0.001). The SGD optimizer here is the stock one;
// the TinyViM detection configs replace it with AdamW.
import { defineConfig } from '../../../core/config';

export default defineConfig({
  optimizer: { type: 'SGD', lr: 0.02, momentum: 0.9, weight_decay: 0.0001 },
  optimizer_config: { grad_clip: null },
  lr_config: { policy: 'step', warmup: 'linear', warmup_iters: 500, warmup_ratio: 1e-6, step: [8, 11] },
  runner: { type: 'EpochBasedRunner', max_epochs: 12 },
});
