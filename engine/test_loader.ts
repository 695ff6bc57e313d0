// Test-time loader settings of a config, as mmdet 2.x reads them (apis/train.py, tools/test.py):
// data.val_dataloader / data.test_dataloader override { samples_per_gpu: 1, workers_per_gpu:
// data.workers_per_gpu }. Batches of several images give the same detections and label maps as
// batch 1 (MaskRCNN groups images by padded size; EncoderDecoder by image shape).
import type { Config } from '../core/config_root';

export interface TestLoaderOptions {
  batchSize: number;
  workers: number;
}

/** Batch size and workers for evaluating on data.val ('val') or data.test ('test'). */
export function testLoaderOptions(cfg: Config, split: 'val' | 'test'): TestLoaderOptions {
  const d = split === 'val' ? cfg.data.val_dataloader : cfg.data.test_dataloader;
  return { batchSize: d?.samples_per_gpu ?? 1, workers: d?.workers_per_gpu ?? cfg.data.workers_per_gpu };
}
