/** Dataset config types and `buildDataset` (strict: unknown or wrongly typed fields are errors). */
import { checkFields, isArr, isBool, isNum, isObj, isPosInt, isStr, isStrList, type FieldSpec } from './cfg_check';
import { CocoDataset, type CocoDatasetConfig } from './coco';
import { DataConfigError } from './errors';
import { buildPipeline } from './pipeline';
import { RepeatDataset, type RepeatDatasetConfig } from './repeat';
import { SegDataset, type ADE20KDatasetConfig, type CustomSegDatasetConfig } from './seg';
import type { RawDataset } from './base';

export type { CocoDatasetConfig, ADE20KDatasetConfig, CustomSegDatasetConfig };
export type LeafDatasetConfig = CocoDatasetConfig | ADE20KDatasetConfig | CustomSegDatasetConfig;
export type DatasetConfig = LeafDatasetConfig | RepeatDatasetConfig<DatasetConfig>;
export type { RepeatDatasetConfig };

const segCommon = {
  pipeline: isArr,
  data_root: isStr,
  ann_dir: isStr,
  img_suffix: isStr,
  seg_map_suffix: isStr,
  reduce_zero_label: isBool,
  test_mode: isBool,
};

/** The fields of each dataset type, declared once (the registry schemas are built from these). */
export const DATASET_SPECS: Record<DatasetConfig['type'], FieldSpec> = {
  CocoDataset: {
    required: { ann_file: isStr, img_prefix: isStr, pipeline: isArr },
    optional: { data_root: isStr, filter_empty_gt: isBool, test_mode: isBool, classes: isStrList, min_size: isNum },
  },
  ADE20KDataset: { required: { img_dir: isStr }, optional: { ...segCommon, classes: isStrList } },
  CustomSegDataset: { required: { img_dir: isStr, classes: isStrList }, optional: segCommon },
  RepeatDataset: { required: { times: isPosInt, dataset: isObj } },
};

export const DATASET_TYPES = Object.keys(DATASET_SPECS);

/** Checks a dataset config (and its pipeline) without touching the disk. */
export function checkDatasetConfig(cfg: unknown, where = 'dataset'): asserts cfg is DatasetConfig {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new DataConfigError(where, 'type', 'expected a dataset config object');
  const c = cfg as Record<string, unknown>;
  if (typeof c.type !== 'string' || !(c.type in DATASET_SPECS))
    throw new DataConfigError(where, 'type', `unknown dataset type ${JSON.stringify(c.type)} (known: ${DATASET_TYPES.join(', ')})`);
  checkFields(`${where}.${c.type}`, c, DATASET_SPECS[c.type as DatasetConfig['type']]);
  if (c.type === 'RepeatDataset') checkDatasetConfig(c.dataset, `${where}.RepeatDataset.dataset`);
  else buildPipeline(c.pipeline as unknown[]);
}

export interface BuildDatasetOptions {
  /** Overrides `data_root` of the config (relative paths resolve against it). */
  dataRoot?: string;
}

export function buildDataset(cfg: DatasetConfig, opts: BuildDatasetOptions = {}): RawDataset {
  checkDatasetConfig(cfg);
  switch (cfg.type) {
    case 'CocoDataset':
      return new CocoDataset(cfg, opts.dataRoot);
    case 'ADE20KDataset':
    case 'CustomSegDataset':
      return new SegDataset(cfg, opts.dataRoot);
    case 'RepeatDataset':
      return new RepeatDataset(buildDataset(cfg.dataset, opts), cfg.times);
  }
}
