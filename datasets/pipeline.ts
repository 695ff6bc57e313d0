/**
 * Typed transform configs, `buildPipeline` (strict field checking) and `Pipeline.run`,
 * which turns a RawSample into a finished Sample under the sample's own RNG.
 */
import { type ObjectSchema, type Shape, type TaggedConfig, s as schema, validate } from '../core/config_schema';
import { Rng } from '../core/rng';
import { checkDataConfig } from './config_fields';
import { DataConfigError } from './errors';
import type { Transform } from './transforms/base';
import { RandomCrop, type RandomCropConfig, randomCropSchema } from './transforms/crop';
import { RandomFlip, type RandomFlipConfig, randomFlipSchema } from './transforms/flip';
import {
  LoadAnnotations,
  LoadImageFromFile,
  type LoadAnnotationsConfig,
  type LoadImageFromFileConfig,
  loadAnnotationsSchema,
  loadImageFromFileSchema,
} from './transforms/loading';
import { Normalize, type NormalizeConfig, normalizeSchema } from './transforms/normalize';
import { Pad, type PadConfig, padSchema } from './transforms/pad';
import { PhotoMetricDistortion, type PhotoMetricDistortionConfig, photoMetricDistortionSchema } from './transforms/photometric';
import { AlignResize, Resize, type AlignResizeConfig, type ResizeConfig, alignResizeSchema, resizeSchema } from './transforms/resize';
import { newState, type PipelineState, type RawSample, type Sample } from './types';

export type {
  AlignResizeConfig,
  LoadAnnotationsConfig,
  LoadImageFromFileConfig,
  NormalizeConfig,
  PadConfig,
  PhotoMetricDistortionConfig,
  RandomCropConfig,
  RandomFlipConfig,
  ResizeConfig,
};

export type TransformConfig =
  | LoadImageFromFileConfig
  | LoadAnnotationsConfig
  | ResizeConfig
  | AlignResizeConfig
  | RandomFlipConfig
  | NormalizeConfig
  | PadConfig
  | RandomCropConfig
  | PhotoMetricDistortionConfig;

interface Entry {
  /** The transform's fields (declared next to its class), without `type`. */
  schema: ObjectSchema<Shape>;
  make: (cfg: never) => Transform;
}

const TRANSFORMS: Record<TransformConfig['type'], Entry> = {
  LoadImageFromFile: { schema: loadImageFromFileSchema, make: (c: LoadImageFromFileConfig) => new LoadImageFromFile(c) },
  LoadAnnotations: { schema: loadAnnotationsSchema, make: (c: LoadAnnotationsConfig) => new LoadAnnotations(c) },
  Resize: { schema: resizeSchema, make: (c: ResizeConfig) => new Resize(c) },
  AlignResize: { schema: alignResizeSchema, make: (c: AlignResizeConfig) => new AlignResize(c) },
  RandomFlip: { schema: randomFlipSchema, make: (c: RandomFlipConfig) => new RandomFlip(c) },
  Normalize: { schema: normalizeSchema, make: (c: NormalizeConfig) => new Normalize(c) },
  Pad: { schema: padSchema, make: (c: PadConfig) => new Pad(c) },
  RandomCrop: { schema: randomCropSchema, make: (c: RandomCropConfig) => new RandomCrop(c) },
  PhotoMetricDistortion: { schema: photoMetricDistortionSchema, make: (c: PhotoMetricDistortionConfig) => new PhotoMetricDistortion(c) },
};

const TRANSFORM_SCHEMAS: ReadonlyMap<string, ObjectSchema<Shape>> = new Map(Object.entries(TRANSFORMS).map(([k, e]) => [k, e.schema]));

/** Any transform config: `type` picks the transform's schema (what a dataset's `pipeline` lists). */
export const transformSchema = schema.tagged<TaggedConfig>('type', () => TRANSFORM_SCHEMAS, 'transform');

export const TRANSFORM_TYPES = Object.keys(TRANSFORMS);

/**
 * Validates one transform config (its type, then its fields, strictly) and builds it. Throws core's
 * ConfigError, one line naming the field under `where` (e.g. `pipeline[1].Resize.img_scale: expected
 * ...`); constructor checks of field combinations come as DataConfigError (`<where>.<type>.config: ...`).
 */
export function buildTransform(cfg: unknown, where = 'pipeline'): Transform {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new DataConfigError(where, 'type', 'expected a transform config object');
  const c = cfg as Record<string, unknown>;
  const type = c.type;
  // An unknown or missing type: the tagged schema's message (known types, nearest name).
  if (typeof type !== 'string' || !(type in TRANSFORMS)) validate(transformSchema, c, () => '', where);
  const entry = TRANSFORMS[type as TransformConfig['type']];
  checkDataConfig(entry.schema, c, `${where}.${type}`);
  try {
    return entry.make(c as never);
  } catch (e) {
    throw new DataConfigError(`${where}.${type}`, 'config', (e as Error).message);
  }
}

export class Pipeline {
  constructor(readonly transforms: Transform[]) {}

  /** Runs all transforms on `raw`; `seed` fixes every random choice of this sample. */
  async run(raw: RawSample, seed: number): Promise<Sample> {
    const rng = new Rng(seed);
    let s: PipelineState = newState(raw);
    for (const t of this.transforms) s = await t.apply(s, rng);
    return toSample(s);
  }
}

/** Builds a pipeline from configs; errors name the transform (with its position) and the field. */
export function buildPipeline(cfgs: readonly unknown[]): Pipeline {
  if (!Array.isArray(cfgs)) throw new DataConfigError('dataset', 'pipeline', 'expected a list of transform configs');
  return new Pipeline(cfgs.map((c, i) => buildTransform(c, `pipeline[${i}]`)));
}

/** The finished sample: float32 image (unnormalised pipelines are converted as is). */
export function toSample(s: PipelineState): Sample {
  if (!s.img) throw new Error(`pipeline produced no image for ${s.raw.filename} (add LoadImageFromFile)`);
  const img = s.img instanceof Float32Array ? s.img : Float32Array.from(s.img);
  const shape: [number, number, number] = [s.height, s.width, 3];
  if (s.raw.task === 'seg') return { kind: 'seg', img, shape, meta: s.meta, gt_semantic_seg: s.gt_semantic_seg };
  return {
    kind: 'det',
    img,
    shape,
    meta: s.meta,
    gt_bboxes: s.gt_bboxes,
    gt_labels: s.gt_labels,
    gt_bboxes_ignore: s.gt_bboxes_ignore,
    gt_masks: s.gt_masks,
  };
}
