/**
 * The public inference API (mmdet.apis / mmseg.apis: init_detector, inference_detector,
 * init_segmentor, inference_segmentor), the same in Node and in browsers:
 * - weights: a path (Node), a URL, an ArrayBuffer or bytes of one of our safetensors checkpoints;
 *   its metadata carries the config (and class names), so the config argument may be null;
 * - images: a path (Node) or URL, encoded bytes, RGB pixels `{data, width, height}`, or (browser)
 *   an ImageBitmap / ImageData / <img> / canvas. Pixels replace the pipeline's LoadImageFromFile,
 *   as mmdet's inference_detector swaps in LoadImageFromWebcam for arrays.
 * Platform differences (file reads, decoding) come from `#platform/*`.
 */
import * as tf from '@tensorflow/tfjs';
import { readBytes } from '#platform/fs';
import { decodeImage, decodeImageBytes, pixelsOf } from '#platform/image';
import { checkConfig, loadConfig } from '../core/config';
import type { Config } from '../core/config_root';
import { ConfigError } from '../core/errors';
import { MODELS } from '../core/registry';
import { type CheckpointMeta, type RawTensor, checkpointClasses, loadStateDict, parseCheckpoint } from '../checkpoint';
import { collate } from '../datasets/collate';
import { buildPipeline, Pipeline } from '../datasets/pipeline';
import type { Transform } from '../datasets/transforms/base';
import type { DetBatch, PipelineState, SegBatch } from '../datasets/types';
import type { DetectionResult } from '../structures/results';
import { MaskRCNN } from '../models/mask_rcnn';
import { EncoderDecoder } from '../models/encoder_decoder';
import type { SegResult } from '../structures/results';
import '../models/mask_rcnn_builder';
import '../models/seg_builder';

/** RGB uint8 pixels, HWC row-major (what the pipelines take). */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Where weights come from: a file path (Node), a URL, or the file's bytes. */
export type WeightsSource = string | URL | ArrayBuffer | Uint8Array;

/** An image: a file path (Node) or URL, encoded bytes (PNG/JPEG...), RGB pixels, or a browser image object. */
export type ImageInput = string | URL | ArrayBuffer | Uint8Array | RgbPixels | ImageBitmap | ImageData | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

export interface LoadedWeights {
  stateDict: Map<string, RawTensor>;
  /** Training metadata of our checkpoints (null for a plain state_dict file). */
  meta: CheckpointMeta | null;
  /** The config stored in the metadata, validated; null when absent. */
  config: Config | null;
  /** Class names stored in the metadata (`meta.CLASSES`, or `meta.classes` of earlier exports), null when absent. */
  classes: string[] | null;
  /** File size in bytes. */
  bytes: number;
}

const sourceName = (src: WeightsSource): string => (typeof src === 'string' || src instanceof URL ? String(src) : '<buffer>');

/** Reads a checkpoint from a path, URL or bytes (F16 tensors are widened to float32). Throws CheckpointError. */
export async function loadWeights(src: WeightsSource): Promise<LoadedWeights> {
  const name = sourceName(src);
  const bytes = src instanceof Uint8Array ? src : src instanceof ArrayBuffer ? new Uint8Array(src) : await readBytes(src);
  const ck = parseCheckpoint(bytes, name);
  const rawCfg = ck.meta?.config;
  const config = rawCfg ? checkConfig(rawCfg, `${name} (metadata config)`) : null;
  const classes = checkpointClasses(ck.meta);
  return { stateDict: ck.stateDict, meta: ck.meta, config, classes, bytes: bytes.byteLength };
}

interface Built<M> {
  model: M;
  cfg: Config;
  /** The config's test (else val) pipeline, without LoadAnnotations. */
  pipeline: Pipeline;
  /** Class names (from the weights' metadata, else the config's dataset `classes`), or null. */
  classes: string[] | null;
  /** Size of the weights file in bytes (0 without weights). */
  weightBytes: number;
}

export type Detector = Built<MaskRCNN>;
export type Segmentor = Built<EncoderDecoder>;

export interface InitOptions {
  /** `--cfg-options` style overrides (key=value), applied when the config is a file. */
  cfgOptions?: string[];
  /** Allow a model without weights (random initialisation): for tests and benchmarks only. */
  allowRandomWeights?: boolean;
}

function testPipeline(cfg: Config, source: string): Pipeline {
  const split = (cfg.data?.test ?? cfg.data?.val) as { pipeline?: unknown[] } | undefined;
  if (!split?.pipeline) throw new ConfigError(`${source}: data.test (or data.val) with a pipeline is required for inference`, 'data.test.pipeline', source);
  return buildPipeline(split.pipeline.filter((t) => (t as { type?: string }).type !== 'LoadAnnotations'));
}

function configClasses(cfg: Config): string[] | null {
  const split = (cfg.data?.test ?? cfg.data?.val) as { classes?: unknown } | undefined;
  return Array.isArray(split?.classes) ? split.classes.map(String) : null;
}

async function initModel(config: string | Config | null, weights: WeightsSource | null | undefined, opts: InitOptions): Promise<Built<unknown>> {
  const w = weights ? await loadWeights(weights) : null;
  if (!w && !opts.allowRandomWeights) throw new ConfigError('no weights given: pass a checkpoint (path, URL or bytes), or allowRandomWeights: true for random weights', 'checkpoint', 'init');
  let cfg: Config;
  let source: string;
  if (typeof config === 'string') {
    cfg = (await loadConfig(config, opts.cfgOptions ?? [])).cfg;
    source = config;
  } else if (config) {
    cfg = checkConfig(config, 'config');
    source = 'config';
  } else if (w?.config) {
    cfg = w.config;
    source = `${sourceName(weights!)} (metadata config)`;
  } else throw new ConfigError(`no config: give one, or weights whose metadata holds it (${weights ? sourceName(weights) : 'none given'} has none)`, 'config', 'init');
  const model = MODELS.build(cfg.model, undefined, 'model') as unknown as { module: { eval(): void } };
  if (w) loadStateDict(model.module as never, w.stateDict, { strict: true, source: weights ? sourceName(weights) : 'weights' });
  model.module.eval();
  return { model, cfg, pipeline: testPipeline(cfg, source), classes: w?.classes ?? configClasses(cfg), weightBytes: w?.bytes ?? 0 };
}

/**
 * Builds a detector (Mask R-CNN) and loads its weights strictly.
 * `config`: a config file (Node), a config object, or null to take the one stored in the weights.
 * Throws ConfigError (bad or missing config, not a detector) or CheckpointError (weights do not match).
 */
export async function initDetector(config: string | Config | null, weights?: WeightsSource | null, opts: InitOptions = {}): Promise<Detector> {
  const b = await initModel(config, weights, opts);
  if (!(b.model instanceof MaskRCNN)) throw new ConfigError(`model.type is '${b.cfg.model.type}', not a detector (use initSegmentor)`, 'model.type', 'config');
  return b as Detector;
}

/** Builds a segmentor (EncoderDecoder); arguments and errors as initDetector. */
export async function initSegmentor(config: string | Config | null, weights?: WeightsSource | null, opts: InitOptions = {}): Promise<Segmentor> {
  const b = await initModel(config, weights, opts);
  if (!(b.model instanceof EncoderDecoder)) throw new ConfigError(`model.type is '${b.cfg.model.type}', not a segmentor (use initDetector)`, 'model.type', 'config');
  return b as Segmentor;
}

/** Puts already-decoded pixels where LoadImageFromFile would (mmdet's LoadImageFromWebcam). */
class LoadImageFromPixels implements Transform {
  readonly type = 'LoadImageFromPixels';
  constructor(private readonly im: RgbPixels) {}
  apply(s: PipelineState): PipelineState {
    s.img = this.im.data;
    s.height = this.im.height;
    s.width = this.im.width;
    s.channel_order = 'rgb';
    const shape: [number, number, number] = [this.im.height, this.im.width, 3];
    s.meta.ori_shape = [...shape];
    s.meta.img_shape = [...shape];
    s.meta.pad_shape = [...shape];
    return s;
  }
}

const isPixels = (x: unknown): x is RgbPixels =>
  typeof x === 'object' && x !== null && (x as RgbPixels).data instanceof Uint8Array && typeof (x as RgbPixels).width === 'number' && !(typeof ImageData !== 'undefined' && x instanceof ImageData);

/** Decodes any ImageInput to RGB pixels; a plain string in Node is left to LoadImageFromFile (null). */
async function toPixels(input: ImageInput): Promise<RgbPixels | null> {
  if (typeof input === 'string' && !/^(https?|data|blob):/.test(input) && typeof document === 'undefined') return null;
  if (typeof input === 'string' || input instanceof URL) return decodeImageBytes(await readBytes(input), String(input));
  if (input instanceof ArrayBuffer) return decodeImageBytes(new Uint8Array(input));
  if (input instanceof Uint8Array) return decodeImageBytes(input);
  if (isPixels(input)) {
    if (input.data.length !== input.width * input.height * 3) throw new Error(`RGB pixels: data has ${input.data.length} bytes, expected width*height*3 = ${input.width * input.height * 3}`);
    return input;
  }
  return pixelsOf(input as never);
}

/**
 * Decodes any ImageInput to RGB pixels (HWC uint8), as the inference functions do: for drawing
 * results, or to decode once and run several models.
 */
export async function loadImage(input: ImageInput): Promise<RgbPixels> {
  return (await toPixels(input)) ?? decodeImage(String(input));
}

async function runPipeline<B>(m: Built<unknown>, input: ImageInput, task: 'det' | 'seg'): Promise<B> {
  const px = await toPixels(input);
  const name = typeof input === 'string' ? input : input instanceof URL ? String(input) : '<image>';
  const pipeline = px ? new Pipeline([new LoadImageFromPixels(px), ...m.pipeline.transforms.filter((t) => t.type !== 'LoadImageFromFile')]) : m.pipeline;
  const sample = await pipeline.run({ task, index: 0, filename: name, ori_filename: name } as never, 0);
  return collate([sample]) as B;
}

/** Detections of one image at its original size: boxes [n*4] x1y1x2y2 (pixels), scores, labels, 0/1 masks (row-major HxW). */
export async function inferenceDetector(det: Detector, input: ImageInput): Promise<DetectionResult> {
  const batch = await runPipeline<DetBatch>(det, input, 'det');
  const out = await det.model.predictBitmaps(batch);
  return out[0];
}

/** The label map of one image at its original size (row-major HxW class indices). */
export async function inferenceSegmentor(seg: Segmentor, input: ImageInput): Promise<SegResult> {
  const batch = await runPipeline<SegBatch>(seg, input, 'seg');
  const out = await seg.model.predict(batch);
  return out[0];
}

/** Parameter count of a built model (all variables). */
export function parameterCount(m: Built<unknown>): number {
  const mod = (m.model as { module: { namedSlots(): [string, { variable: tf.Variable }][] } }).module;
  return mod.namedSlots().reduce((a, [, s]) => a + s.variable.size, 0);
}
