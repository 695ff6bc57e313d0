// ImageNet-1k as the official TinyViM code reads it (main.py --data-path, data/datasets.py = DeiT's
// build_dataset: torchvision ImageFolder on <data-path>/train and <data-path>/val, 1000 classes).
// Train: RandomResizedCrop 224 bicubic + flip + RandomErasing 0.25 (timm create_transform; its
// RandAugment rand-m9-mstd0.5-inc1 is not implemented here). Val/test: resize the shorter side to
// int(224 / 0.875) = 256 bicubic, center crop 224, ImageNet mean/std (docs/classification.md).
// Batch: the official 256 images per GPU (train.sh runs 8 GPUs: 2048 in all).
import { defineConfig } from '../../../core/config';

const val = { type: 'ImageNet', data_root: 'data/imagenet', data_prefix: 'val', test_mode: true, img_size: 224, crop_pct: 0.875 };

export default defineConfig({
  data: {
    samples_per_gpu: 256,
    workers_per_gpu: 0,
    // main.py --reprob 0.25 --remode pixel --recount 1
    train: { type: 'ImageNet', data_root: 'data/imagenet', data_prefix: 'train', img_size: 224, re_prob: 0.25 },
    val,
    test: val,
  },
  evaluation: { interval: 1, metric: 'accuracy', save_best: 'accuracy/top1' },
});
