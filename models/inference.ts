// Single-image inference: build a detector from a config (+ checkpoint), run the config's test
// pipeline on one image file, return its detections at the original image size.
import { loadConfig } from '../core/config';
import type { Config } from '../core/config_root';
import { ConfigError, UserError } from '../core/errors';
import { MODELS } from '../core/registry';
import { assertFiniteCheckpoint, checkpointClasses, initWeights, loadStateDict, readCheckpoint } from '../checkpoint';
import { buildPipeline, type Pipeline } from '../datasets/pipeline';
import { collate } from '../datasets/collate';
import type { DetBatch } from '../datasets/types';
import type { DetectionResult } from '../structures/results';
import { MaskRCNN } from './mask_rcnn';
import './mask_rcnn_builder';

export interface Detector {
  model: MaskRCNN;
  cfg: Config;
  pipeline: Pipeline;
  /** Class names from the checkpoint's meta.CLASSES (mmdet's checkpoint meta); null when it has none. */
  classes?: string[] | null;
  /** What the weights are, for the user: the checkpoint and its training position, or 'random'. */
  weights: string;
}

export interface InitDetectorOptions {
  /** Build with random weights when no checkpoint is given (default: refused, the output would be noise). */
  allowRandomWeights?: boolean;
}

/** The test (else val) pipeline of a config, without annotation loading (a bare image has none). */
export function testPipelineOf(cfg: Config, file = 'config'): Pipeline {
  const split = (cfg.data.test ?? cfg.data.val) as { pipeline?: unknown[] } | undefined;
  if (!split?.pipeline) throw new ConfigError(`${file}: data.test (or data.val) with a pipeline is required for inference`, 'data.test.pipeline', file);
  return buildPipeline(split.pipeline.filter((t) => (t as { type?: string }).type !== 'LoadAnnotations'));
}

/**
 * Builds the model of a config file and loads a checkpoint (strictly); the backbone's init_cfg is
 * not applied then (as mmdet's init_detector). Without a checkpoint it throws UserError unless
 * `allowRandomWeights`; with one holding NaN/Inf it throws CheckpointError.
 */
export async function initDetector(configFile: string, checkpoint?: string | null, cfgOptions: string[] = [], opts: InitDetectorOptions = {}): Promise<Detector> {
  const { cfg } = await loadConfig(configFile, cfgOptions);
  if (!checkpoint && !opts.allowRandomWeights) {
    throw new UserError(`${configFile}: no checkpoint given, so the weights would be random and the detections noise; give a checkpoint (tools/infer --checkpoint <file>) or allow random weights explicitly (--allow-random-weights)`);
  }
  const model = MODELS.build(cfg.model, undefined, 'model');
  if (!(model instanceof MaskRCNN)) throw new ConfigError(`${configFile}: model.type is '${cfg.model.type}', not a detector`, 'model.type', configFile);
  // Weights load after construction: the checkpoint over everything, else init_cfg (random weights,
  // explicitly allowed; the backbone's ImageNet file when the config names one).
  let weights = 'random (no checkpoint)';
  let classes: string[] | null = null;
  if (checkpoint) {
    const ck = readCheckpoint(checkpoint);
    assertFiniteCheckpoint(ck, checkpoint);
    loadStateDict(model.module, ck.stateDict, { strict: true, source: checkpoint });
    const at = ck.meta ? `, trained to iter ${ck.meta.iter} (epoch ${ck.meta.epoch})` : '';
    weights = `${checkpoint} (${ck.stateDict.size} tensors${at})`;
    classes = checkpointClasses(ck.meta);
  } else initWeights(model.module);
  model.module.eval();
  return { model, cfg, pipeline: testPipelineOf(cfg, configFile), weights, classes };
}

/** The test-pipeline batch of one image file. */
export async function imageBatch(det: Detector, file: string): Promise<DetBatch> {
  const sample = await det.pipeline.run({ task: 'det', index: 0, filename: file, ori_filename: file }, 0);
  return collate([sample]) as DetBatch;
}

/** Detections of one image file (boxes, scores, labels, bitmap masks at the original size). */
export async function inferenceDetector(det: Detector, file: string): Promise<DetectionResult> {
  return (await det.model.predictBitmaps(await imageBatch(det, file)))[0];
}
