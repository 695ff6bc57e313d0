/**
 * Typed transform configs, `buildPipeline` (strict field checking) and `Pipeline.run`,
 * which turns a RawSample into a finished Sample under the sample's own RNG.
 */
import { Rng } from '../core/rng';
import {
  checkFields,
  isBool,
  isNum,
  isPair,
  isPosInt,
  isProb,
  isTriple,
  oneOf,
  type FieldCheck,
  type FieldSpec,
} from './cfg_check';
import { DataConfigError } from './errors';
import type { Transform } from './transforms/base';
import { RandomCrop, type RandomCropConfig } from './transforms/crop';
import { RandomFlip, type RandomFlipConfig } from './transforms/flip';
import { LoadAnnotations, LoadImageFromFile, type LoadAnnotationsConfig, type LoadImageFromFileConfig } from './transforms/loading';
import { Normalize, type NormalizeConfig } from './transforms/normalize';
import { Pad, type PadConfig } from './transforms/pad';
import { PhotoMetricDistortion, type PhotoMetricDistortionConfig } from './transforms/photometric';
import { AlignResize, Resize, type AlignResizeConfig, type ResizeConfig } from './transforms/resize';
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

const isScale: FieldCheck = (v) =>
  isPair(v) === null || (Array.isArray(v) && v.length > 0 && v.every((x) => isPair(x) === null))
    ? null
    : 'expected a pair [w, h] or a list of pairs';

/** mmcv file_client_args: only the local disk backend is read. */
const isDiskClient: FieldCheck = (v) =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && (v as { backend?: unknown }).backend === 'disk' && Object.keys(v).length === 1
    ? null
    : "expected {backend: 'disk'} (other file clients are not supported)";

/** A boolean option of which only one value is reproduced. */
const oneOfBool =
  (only: boolean): FieldCheck =>
  (v) =>
    v === only ? null : `only ${only} is supported`;

/** Pad's pad_val: a number (mmseg) or mmdet's {img?, masks?, seg?} of numbers. */
const isPadVal: FieldCheck = (v) =>
  isNum(v) === null ||
  (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.entries(v).every(([k, x]) => ['img', 'masks', 'seg'].includes(k) && isNum(x) === null))
    ? null
    : 'expected a number or {img?, masks?, seg?} of numbers';

interface Entry {
  spec: FieldSpec;
  make: (cfg: never) => Transform;
}

const TRANSFORMS: Record<TransformConfig['type'], Entry> = {
  // mmdet/mmseg signature fields are accepted with the one mode we reproduce (mmcv's cv2 'color'
  // decode, mmseg's pillow label read, mmdet's bitmap masks); any other mode is refused by name.
  LoadImageFromFile: {
    spec: { optional: { to_float32: isBool, color_type: oneOf('color'), channel_order: oneOf('bgr'), imdecode_backend: oneOf('cv2'), file_client_args: isDiskClient } },
    make: (c: LoadImageFromFileConfig) => new LoadImageFromFile(c),
  },
  LoadAnnotations: {
    spec: {
      optional: {
        with_bbox: isBool,
        with_label: isBool,
        with_mask: isBool,
        with_seg: isBool,
        reduce_zero_label: isBool,
        poly2mask: oneOfBool(true),
        denorm_bbox: oneOfBool(false),
        imdecode_backend: oneOf('pillow'),
        file_client_args: isDiskClient,
      },
    },
    make: (c: LoadAnnotationsConfig) => new LoadAnnotations(c),
  },
  Resize: {
    spec: {
      optional: {
        img_scale: isScale,
        keep_ratio: isBool,
        ratio_range: isPair,
        multiscale_mode: oneOf('range', 'value'),
        bbox_clip_border: isBool,
        min_size: isPosInt,
        backend: oneOf('cv2'),
        override: isBool,
      },
    },
    make: (c: ResizeConfig) => new Resize(c),
  },
  AlignResize: {
    spec: { optional: { img_scale: isPair, keep_ratio: isBool, size_divisor: isPosInt } },
    make: (c: AlignResizeConfig) => new AlignResize(c),
  },
  RandomFlip: {
    spec: { optional: { prob: isProb, flip_ratio: isProb, direction: oneOf('horizontal', 'vertical') } },
    make: (c: RandomFlipConfig) => new RandomFlip(c),
  },
  Normalize: { spec: { required: { mean: isTriple, std: isTriple }, optional: { to_rgb: isBool } }, make: (c: NormalizeConfig) => new Normalize(c) },
  Pad: {
    spec: { optional: { size: isPair, size_divisor: isPosInt, pad_to_square: isBool, pad_val: isPadVal, seg_pad_val: isNum } },
    make: (c: PadConfig) => new Pad(c),
  },
  RandomCrop: {
    spec: { required: { crop_size: isPair }, optional: { cat_max_ratio: isProb, ignore_index: isNum } },
    make: (c: RandomCropConfig) => new RandomCrop(c),
  },
  PhotoMetricDistortion: {
    spec: { optional: { brightness_delta: isNum, contrast_range: isPair, saturation_range: isPair, hue_delta: isPosInt } },
    make: (c: PhotoMetricDistortionConfig) => new PhotoMetricDistortion(c),
  },
};

export const TRANSFORM_TYPES = Object.keys(TRANSFORMS);

/** Validates one transform config and builds it. */
export function buildTransform(cfg: unknown, where = 'pipeline'): Transform {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) throw new DataConfigError(where, 'type', 'expected a transform config object');
  const c = cfg as Record<string, unknown>;
  const type = c.type;
  if (typeof type !== 'string' || !(type in TRANSFORMS))
    throw new DataConfigError(where, 'type', `unknown transform ${JSON.stringify(type)} (known: ${TRANSFORM_TYPES.join(', ')})`);
  const entry = TRANSFORMS[type as TransformConfig['type']];
  checkFields(`${where}.${type}`, c, entry.spec);
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
