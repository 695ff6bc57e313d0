// Single-image inference: build a detector from a config (+ checkpoint), run the config's test
// pipeline on one image file, return its detections at the original image size.
import { loadConfig } from '../core/config';
import type { Config } from '../core/config_root';
import { ConfigError } from '../core/errors';
import { MODELS } from '../core/registry';
import { initWeights, loadStateDict, readCheckpoint } from '../checkpoint';
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
}

/** The test (else val) pipeline of a config, without annotation loading (a bare image has none). */
export function testPipelineOf(cfg: Config, file = 'config'): Pipeline {
  const split = (cfg.data.test ?? cfg.data.val) as { pipeline?: unknown[] } | undefined;
  if (!split?.pipeline) throw new ConfigError(`${file}: data.test (or data.val) with a pipeline is required for inference`, 'data.test.pipeline', file);
  return buildPipeline(split.pipeline.filter((t) => (t as { type?: string }).type !== 'LoadAnnotations'));
}

/** Builds the model of a config file and loads a checkpoint (strictly) when given. */
export async function initDetector(configFile: string, checkpoint?: string | null, cfgOptions: string[] = []): Promise<Detector> {
  const { cfg } = await loadConfig(configFile, cfgOptions);
  const model = MODELS.build(cfg.model, undefined, 'model');
  if (!(model instanceof MaskRCNN)) throw new ConfigError(`${configFile}: model.type is '${cfg.model.type}', not a detector`, 'model.type', configFile);
  // Weights load after construction: init_cfg first, then the checkpoint over everything.
  if (checkpoint) loadStateDict(model.module, readCheckpoint(checkpoint).stateDict, { strict: true, source: checkpoint });
  else initWeights(model.module);
  model.module.eval();
  return { model, cfg, pipeline: testPipelineOf(cfg, configFile) };
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
