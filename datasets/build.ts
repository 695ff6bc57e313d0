/** Dataset config types and `buildDataset` (strict: unknown or wrongly typed fields are errors). */
import { type ObjectSchema, type Shape, s, validate } from '../core/config_schema';
import type { RawDataset } from './base';
import { CocoDataset, type CocoDatasetConfig, cocoDatasetSchema } from './coco';
import { checkDataConfig } from './config_fields';
import { DataConfigError } from './errors';
import { buildPipeline } from './pipeline';
import { RepeatDataset, type RepeatDatasetConfig, repeatDatasetSchema } from './repeat';
import { SegDataset, type ADE20KDatasetConfig, type CustomSegDatasetConfig, ade20kDatasetSchema, customSegDatasetSchema } from './seg';

export type { CocoDatasetConfig, ADE20KDatasetConfig, CustomSegDatasetConfig };
export type LeafDatasetConfig = CocoDatasetConfig | ADE20KDatasetConfig | CustomSegDatasetConfig;
export type DatasetConfig = LeafDatasetConfig | RepeatDatasetConfig<DatasetConfig>;
export type { RepeatDatasetConfig };

/** Any config buildDataset builds: `type` picks the schema (resolved when checked, so RepeatDataset can nest). */
const datasetSchema = s.tagged('type', () => DATASET_SCHEMAS, 'dataset');

/**
 * The fields of each dataset type buildDataset builds: the schemas declared next to each dataset
 * class (datasets/register.ts registers the same schemas in DATASETS).
 */
export const DATASET_SCHEMAS: ReadonlyMap<DatasetConfig['type'], ObjectSchema<Shape>> = new Map<DatasetConfig['type'], ObjectSchema<Shape>>([
  ['CocoDataset', cocoDatasetSchema],
  ['ADE20KDataset', ade20kDatasetSchema],
  ['CustomSegDataset', customSegDatasetSchema],
  ['RepeatDataset', repeatDatasetSchema(datasetSchema)],
]);

export const DATASET_TYPES = [...DATASET_SCHEMAS.keys()];

/**
 * Checks a dataset config (and its pipeline) without touching the disk. Throws core's ConfigError,
 * one line naming the field under `where` (e.g. `dataset.CocoDataset.filter_empty: unknown key ...`,
 * `dataset.CocoDataset.pipeline.1.img_scale: expected ...`), or DataConfigError for a transform's
 * combination of fields (`pipeline[1].Resize.config: ...`).
 */
export function checkDatasetConfig(cfg: unknown, where = 'dataset'): asserts cfg is DatasetConfig {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new DataConfigError(where, 'type', 'expected a dataset config object');
  const c = cfg as Record<string, unknown>;
  const type = c.type as DatasetConfig['type'];
  // An unknown or missing type: the tagged schema's message (known types, nearest name).
  if (typeof type !== 'string' || !DATASET_SCHEMAS.has(type)) validate(datasetSchema, c, () => '', where);
  if (type === 'RepeatDataset') {
    // The nested dataset is checked on its own, so its errors name its type as well.
    checkDataConfig(repeatDatasetSchema(s.any()), c, `${where}.${type}`);
    checkDatasetConfig(c.dataset, `${where}.RepeatDataset.dataset`);
    return;
  }
  checkDataConfig(DATASET_SCHEMAS.get(type)!, c, `${where}.${type}`);
  // The transforms' own checks of field combinations (their constructors).
  buildPipeline(c.pipeline as unknown[]);
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
