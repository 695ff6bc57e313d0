// Single-image inference: build a detector from a config (+ checkpoint), run the config's test
// pipeline on one image file, return its detections at the original image size.
import { loadConfig } from '../core/config';
import type { Config } from '../core/config_root';
import { ConfigError, UserError } from '../core/errors';
import { MODELS } from '../core/registry';
import { assertFiniteCheckpoint, readCheckpoint, loadStateDict } from '../engine/checkpoint';
import { buildPipeline, type Pipeline } from '../datasets/pipeline';
import { collate } from '../datasets/collate';
import type { DetBatch } from '../datasets/types';
import type { DetectionResult } from '../heads/types';
import { MaskRCNN } from './mask_rcnn';
import './mask_rcnn_builder';

export interface Detector {
  model: MaskRCNN;
  cfg: Config;
  pipeline: Pipeline;
  /** What the weights are, for the user: the checkpoint and its training position, or 'random'. */
  weights: string;
}

export interface InitDetectorOptions {
  /** Build with random weights when no checkpoint is given (default: refused, the output would be noise). */
  allowRandomWeights?: boolean;
}

/** Model config without the backbone's init_cfg: a checkpoint replaces every weight anyway. */
function withoutBackboneInit(model: Config['model']): Config['model'] {
  const m = model as unknown as { backbone?: Record<string, unknown> };
  if (!m.backbone || !('init_cfg' in m.backbone)) return model;
  const { init_cfg: _drop, ...backbone } = m.backbone;
  return { ...(model as object), backbone } as unknown as Config['model'];
}

/** The test (else val) pipeline of a config, without annotation loading (a bare image has none). */
export function testPipelineOf(cfg: Config, file = 'config'): Pipeline {
  const split = (cfg.data.test ?? cfg.data.val) as { pipeline?: unknown[] } | undefined;
  if (!split?.pipeline) throw new ConfigError(`${file}: data.test (or data.val) with a pipeline is required for inference`, 'data.test.pipeline', file);
  return buildPipeline(split.pipeline.filter((t) => (t as { type?: string }).type !== 'LoadAnnotations'));
}

/**
 * Builds the model of a config file and loads a checkpoint (strictly). As mmdet's init_detector
 * (which sets `model.pretrained = None`), the backbone's ImageNet init_cfg is skipped when a
 * checkpoint is given. Without a checkpoint it throws UserError unless `allowRandomWeights`; with
 * one holding NaN/Inf it throws CheckpointError.
 */
export async function initDetector(configFile: string, checkpoint?: string | null, cfgOptions: string[] = [], opts: InitDetectorOptions = {}): Promise<Detector> {
  const { cfg } = await loadConfig(configFile, cfgOptions);
  if (!checkpoint && !opts.allowRandomWeights) {
    throw new UserError(`${configFile}: no checkpoint given, so the weights would be random and the detections noise; give a checkpoint (tools/infer --checkpoint <file>) or allow random weights explicitly (--allow-random-weights)`);
  }
  const model = MODELS.build(checkpoint ? withoutBackboneInit(cfg.model) : cfg.model, undefined, 'model');
  if (!(model instanceof MaskRCNN)) throw new ConfigError(`${configFile}: model.type is '${cfg.model.type}', not a detector`, 'model.type', configFile);
  let weights = 'random (no checkpoint)';
  if (checkpoint) {
    const ck = readCheckpoint(checkpoint);
    assertFiniteCheckpoint(ck, checkpoint);
    loadStateDict(model.module, ck.stateDict, { strict: true, source: checkpoint });
    const at = ck.meta ? `, trained to iter ${ck.meta.iter} (epoch ${ck.meta.epoch})` : '';
    weights = `${checkpoint} (${ck.stateDict.size} tensors${at})`;
  }
  model.module.eval();
  return { model, cfg, pipeline: testPipelineOf(cfg, configFile), weights };
}

/** The test-pipeline batch of one image file. */
export async function imageBatch(det: Detector, file: string): Promise<DetBatch> {
  const sample = await det.pipeline.run({ task: 'det', index: 0, filename: file, ori_filename: file }, 0);
  return collate([sample]) as DetBatch;
}

/** Detections of one image file (boxes, scores, labels, bitmap masks at the original size). */
export async function inferenceDetector(det: Detector, file: string): Promise<DetectionResult> {
  return det.model.predictBitmaps(await imageBatch(det, file))[0];
}
