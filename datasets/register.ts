/**
 * Registers the datasets in core's DATASETS registry (what `data.train/val/test` configs
 * name) with the schemas declared next to each dataset class (build.ts's DATASET_SCHEMAS), so a
 * config's dataset and transform fields are checked at config load, naming the file; buildDataset
 * checks the same schemas for configs built in code.
 */
import { DATASETS, type BuiltDataset, type LoaderOptions } from '../core/registry';
import { DATASET_SCHEMAS, buildDataset, type DatasetConfig } from './build';
import { repeatDatasetSchema } from './repeat';
import type { RawDataset } from './base';
import { DataLoader } from './loader';
import type { Batch } from './types';
// The evaluators the dataset types below name.
import '../evaluation/evaluators';
// Classification datasets (ImageNet) register themselves.
import './classification/register';

/** A RawDataset as the engine sees it: length + loader, and the evaluator type that scores it. */
export class LoadableDataset implements BuiltDataset<Batch> {
  /** Detection datasets: mmdet's aspect-ratio flag per sample (1: width > height), for group sampling. */
  readonly groupFlags?: () => Uint8Array;
  constructor(
    readonly raw: RawDataset,
    readonly evaluator?: string,
  ) {
    if (raw.task === 'det') this.groupFlags = () => aspectFlags(raw);
  }
  get length(): number {
    return this.raw.length;
  }
  loader(opts: LoaderOptions): DataLoader {
    return new DataLoader(this.raw, opts);
  }
}

/** mmdet CustomDataset._set_group_flag: 1 where width / height > 1 (sizes from the annotation file; unknown: 0). */
export function aspectFlags(raw: RawDataset): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw.raw(i);
    out[i] = r.width && r.height && r.width / r.height > 1 ? 1 : 0;
  }
  return out;
}

/** The evaluator scoring each dataset type (RepeatDataset is for training and has none). */
const EVALUATOR_OF: Record<string, string | undefined> = {
  CocoDataset: 'CocoEvaluator',
  ADE20KDataset: 'SemSegEvaluator',
  CustomSegDataset: 'SemSegEvaluator',
};

let done = false;
export function registerDatasets(): void {
  if (done) return;
  done = true;
  const build = (cfg: { type: string }) => new LoadableDataset(buildDataset(cfg as DatasetConfig), EVALUATOR_OF[cfg.type]);
  DATASETS.register('CocoDataset', {
    schema: DATASET_SCHEMAS.get('CocoDataset')!,
    build,
    doc: 'COCO instances (annotations/instances_*.json + image folder)',
  });
  DATASETS.register('ADE20KDataset', {
    schema: DATASET_SCHEMAS.get('ADE20KDataset')!,
    build,
    doc: 'ADE20K layout (images/ + annotations/ PNG label maps), 150 classes, reduce_zero_label',
  });
  DATASETS.register('CustomSegDataset', {
    schema: DATASET_SCHEMAS.get('CustomSegDataset')!,
    build,
    doc: 'folder of images + folder of PNG label maps with a class list',
  });
  DATASETS.register('RepeatDataset', {
    schema: repeatDatasetSchema(DATASETS.schema()),
    build,
    doc: 'repeats a dataset `times` per epoch',
  });
}

registerDatasets();
