/**
 * Registers the datasets in core's DATASETS registry (what `data.train/val/test` configs
 * name). The registry schema checks the dataset fields; buildDataset re-checks them and
 * validates every pipeline entry strictly.
 */
import { s } from '../core/config_schema';
import { DATASETS, type BuiltDataset, type LoaderOptions } from '../core/registry';
import { buildDataset, type DatasetConfig } from './build';
import type { RawDataset } from './base';
import { DataLoader } from './loader';
import type { Batch } from './types';
// The evaluators the dataset types below name.
import '../evaluation/evaluators';

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

const str = () => s.string();
const optStr = () => s.string().optional();
const pipeline = () => s.array(s.any());
const segFields = {
  img_dir: str(),
  ann_dir: optStr(),
  pipeline: pipeline(),
  data_root: optStr(),
  img_suffix: optStr(),
  seg_map_suffix: optStr(),
  reduce_zero_label: s.boolean().optional(),
  test_mode: s.boolean().optional(),
};

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
    schema: s.object({
      ann_file: str(),
      img_prefix: str(),
      pipeline: pipeline(),
      data_root: optStr(),
      filter_empty_gt: s.boolean().optional(),
      test_mode: s.boolean().optional(),
      classes: s.array(s.string()).optional(),
      min_size: s.number({ min: 0 }).optional(),
    }),
    build,
    doc: 'COCO instances (annotations/instances_*.json + image folder)',
  });
  DATASETS.register('ADE20KDataset', {
    schema: s.object({ ...segFields, classes: s.array(s.string()).optional() }),
    build,
    doc: 'ADE20K layout (images/ + annotations/ PNG label maps), 150 classes, reduce_zero_label',
  });
  DATASETS.register('CustomSegDataset', {
    schema: s.object({ ...segFields, classes: s.array(s.string()) }),
    build,
    doc: 'folder of images + folder of PNG label maps with a class list',
  });
  DATASETS.register('RepeatDataset', {
    schema: s.object({ times: s.int({ min: 1 }), dataset: DATASETS.schema() }),
    build,
    doc: 'repeats a dataset `times` per epoch',
  });
}

registerDatasets();
