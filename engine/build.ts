// From a validated config to a ready Runner: seeds, model and datasets through the registries,
// optional load_from / resume. Used by tools/train and by tests.
import { mkdirSync, writeFileSync } from '#platform/fs';
import { join } from '#platform/path';
import type { Config } from '../core/config_root';
import { ConfigError } from '../core/errors';
import { type BuiltDataset, DATASETS, MODELS, type TrainableModel } from '../core/registry';
import { initWeights } from '../checkpoint';
import { setInitSeed } from '../nn/init';
import { findLatestCheckpoint } from './checkpoint';
import type { LogSink } from './log_writer';
import type { DistContext } from './dist/context';
import { type RngLike, Runner } from './runner';

/**
 * Builds the model of the config through MODELS, then loads the weights its modules' init_cfg name
 * (checkpoint/init_cfg): building never opens files, loading happens here, after construction.
 */
export function buildModel(cfg: Config, opts: { initWeights?: boolean } = {}): TrainableModel {
  const model = MODELS.build(cfg.model, undefined, 'model');
  if (opts.initWeights ?? true) initWeights(model.module);
  return model;
}

export function buildDataset(cfg: Config, split: 'train' | 'val' | 'test'): BuiltDataset | null {
  const d = cfg.data[split];
  return d ? DATASETS.build(d, { split }, `data.${split}`) : null;
}

export interface TrainOptions {
  workDir: string;
  seed: number;
  log: LogSink;
  resumeFrom?: string | null;
  autoResume?: boolean;
  backend?: string;
  rng?: RngLike | null;
  /** Data-parallel job (engine/dist): rank 0 writes config.json; every rank resumes from the same checkpoint. */
  dist?: DistContext | null;
}

/** Seeds initialisation, builds model and data, and restores state as the options/config ask. */
export function createRunner(cfg: Config, opts: TrainOptions): Runner {
  mkdirSync(opts.workDir, { recursive: true });
  setInitSeed(opts.seed);
  const model = buildModel(cfg);
  const trainData = buildDataset(cfg, 'train')!;
  const valData = cfg.evaluation ? buildDataset(cfg, 'val') : null;
  if (cfg.evaluation && !valData) throw new ConfigError('evaluation is set but data.val is missing', 'data.val');
  // The model's own training-time stream (samplers) is checkpointed so that resume is exact.
  const rng = opts.rng ?? model.rng ?? null;
  const runner = new Runner({ cfg, model, trainData, valData, workDir: opts.workDir, seed: opts.seed, log: opts.log, rng, backend: opts.backend, dist: opts.dist });
  if (!opts.dist || opts.dist.isMain) writeFileSync(join(opts.workDir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  let resume = opts.resumeFrom ?? cfg.resume_from ?? null;
  if (!resume && (opts.autoResume ?? cfg.auto_resume)) {
    resume = findLatestCheckpoint(opts.workDir);
    if (!resume) opts.log.info(`auto-resume: no checkpoint in ${opts.workDir}; starting from scratch`);
  }
  if (resume) runner.resume(resume);
  else if (cfg.load_from) runner.loadWeights(cfg.load_from);
  return runner;
}
