/**
 * Semantic segmentation datasets (mmsegmentation 0.30 CustomDataset semantics):
 * images found recursively under img_dir by img_suffix (sorted), label map =
 * ann_dir/<same relative name with seg_map_suffix>. ADE20KDataset fixes the 150
 * class names and reduce_zero_label=true; CustomSegDataset takes a class list.
 */
import { existsSync, readdirSync, statSync } from '#platform/fs';
import { join, relative } from '#platform/path';
import { type Infer, s } from '../core/config_schema';
import { ADE20K_CLASSES } from './ade_classes';
import { resolvePath, type RawDataset } from './base';
import { DatasetError } from './errors';
import { transformSchema } from './pipeline';
import type { RawSample } from './types';

/** The fields both segmentation dataset types share. */
const segFields = {
  img_dir: s.string(),
  ann_dir: s.string().optional().describedAs('absent: images only (inference)'),
  // Optional here as before (buildDataset still needs one: buildPipeline refuses a missing list).
  pipeline: s.array(transformSchema).optional(),
  data_root: s.string().optional(),
  img_suffix: s.string().optional(),
  seg_map_suffix: s.string().optional(),
  reduce_zero_label: s.boolean().optional(),
  test_mode: s.boolean().optional(),
};

/** ADE20KDataset's fields (the DATASETS registry and buildDataset validate with this). */
export const ade20kDatasetSchema = s.object({
  ...segFields,
  classes: s.array(s.string()).optional().describedAs('override the 150 ADE20K names (e.g. for a generated ADE-layout dataset)'),
});
export type ADE20KDatasetConfig = { type: 'ADE20KDataset' } & Infer<typeof ade20kDatasetSchema>;

/** CustomSegDataset's fields. */
export const customSegDatasetSchema = s.object({ ...segFields, classes: s.array(s.string()) });
export type CustomSegDatasetConfig = { type: 'CustomSegDataset' } & Infer<typeof customSegDatasetSchema>;

export const ADE_LAYOUT =
  'ADE20K layout: <data_root>/images/{training,validation}/*.jpg (img_dir) and <data_root>/annotations/{training,validation}/*.png (ann_dir)';

function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export class SegDataset implements RawDataset {
  readonly task = 'seg' as const;
  readonly classes: readonly string[];
  readonly imgDir: string;
  readonly annDir: string | undefined;
  readonly reduceZeroLabel: boolean;
  readonly pipelineCfg: unknown[];
  private readonly files: string[];
  private readonly segSuffix: string;
  private readonly imgSuffix: string;

  constructor(cfg: ADE20KDatasetConfig | CustomSegDatasetConfig, dataRoot?: string) {
    const root = dataRoot ?? cfg.data_root;
    const layout = cfg.type === 'ADE20KDataset' ? ADE_LAYOUT : 'a folder of images (img_dir) and a folder of PNG label maps with the same names (ann_dir)';
    this.imgDir = resolvePath(root, cfg.img_dir);
    this.annDir = cfg.ann_dir === undefined ? undefined : resolvePath(root, cfg.ann_dir);
    this.imgSuffix = cfg.img_suffix ?? '.jpg';
    this.segSuffix = cfg.seg_map_suffix ?? '.png';
    this.reduceZeroLabel = cfg.reduce_zero_label ?? cfg.type === 'ADE20KDataset';
    this.classes = cfg.classes ?? ADE20K_CLASSES;
    // buildDataset has refused a missing pipeline already (buildPipeline); a dataset built directly without one has none.
    this.pipelineCfg = cfg.pipeline ?? [];
    for (const d of [this.imgDir, this.annDir]) {
      if (d !== undefined && (!existsSync(d) || !statSync(d).isDirectory())) throw new DatasetError(d, `folder not found (expected ${layout})`);
    }
    this.files = listFiles(this.imgDir, this.imgSuffix);
    if (this.files.length === 0) throw new DatasetError(this.imgDir, `no *${this.imgSuffix} images found (expected ${layout})`);
    if (this.annDir) {
      for (const f of this.files) {
        const seg = this.segPath(f);
        if (!existsSync(seg)) throw new DatasetError(seg, `label map missing for image ${join(this.imgDir, f)} (expected ${layout})`);
      }
    }
  }

  private segPath(rel: string): string {
    return join(this.annDir as string, rel.slice(0, rel.length - this.imgSuffix.length) + this.segSuffix);
  }

  get length(): number {
    return this.files.length;
  }

  raw(index: number): RawSample {
    const f = this.files[index];
    return {
      task: 'seg',
      index,
      filename: join(this.imgDir, f),
      ori_filename: f,
      seg_map: this.annDir ? this.segPath(f) : undefined,
      num_classes: this.classes.length,
      reduce_zero_label: this.reduceZeroLabel,
    };
  }
}
