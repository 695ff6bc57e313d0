// TinyViM-S on ImageNet-1k: the official classifier (distillation head included, as the released
// checkpoints) with the official eval transform and training recipe (docs/classification.md).
// Published top-1: 79.2 (300 epochs), 80.3 (1000 epochs).
// Evaluate the official checkpoint (its 'model' entry loads strictly):
//   npx tsx tools/eval.ts --config configs/classification/tinyvim_s_in1k.ts --checkpoint <TinyViM-S.pth>
// Training here uses random erasing, mixup/cutmix with label smoothing 0.1 and no teacher; RandAugment,
// repeated augmentation, EMA, AGC clipping and the RegNetY-16GF hard distillation are not implemented.
import { defineConfig } from '../../core/config';

export default defineConfig({
  _base_: ['../_base_/datasets/imagenet.ts', '../_base_/schedules/imagenet_tinyvim_300e.ts', '../_base_/default_runtime.ts'],
  model: {
    type: 'ImageClassifier',
    backbone: { type: 'TinyViM_S', fork_feat: false, num_classes: 1000, distillation: true },
    loss: { type: 'LabelSmoothLoss', label_smooth_val: 0.1 },
    // main.py: --mixup 0.8 --cutmix 1.0 --mixup-prob 1.0 --mixup-switch-prob 0.5 (smoothing inside the soft targets).
    mixup: { mixup_alpha: 0.8, cutmix_alpha: 1.0, prob: 1.0, switch_prob: 0.5 },
  },
  // main.py keeps the last 3 epoch checkpoints (and checkpoint_best.pth).
  checkpoint_config: { interval: 1, max_keep_ckpts: 3 },
});
