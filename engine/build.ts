// From a validated config to a ready Runner: seeds, model and datasets through the registries,
// optional load_from / resume. Used by tools/train and by tests.
import { existsSync, readFileSync, renameSync, statSync } from '#platform/fs';
import { basename, join } from '#platform/path';
import { fileError, makeDir } from '../core/fsio';
import type { Config } from '../core/config_root';
import { ConfigError } from '../core/errors';
import { type BuiltDataset, DATASETS, MODELS, type TrainableModel } from '../core/registry';
import { initWeights } from '../checkpoint';
import { setInitSeed } from '../nn/init';
import { writeFileAtomic } from '../checkpoint';
import { findLatestCheckpoint, removeStaleTempFiles } from './checkpoint';
import { buildEvaluator, configMetric } from './evaluate';
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
  /** Resume from a checkpoint holding NaN/Inf (refused by default). */
  allowNonfinite?: boolean;
  /** Data-parallel job (engine/dist): rank 0 writes config.json; every rank resumes from the same checkpoint. */
  dist?: DistContext | null;
}

/**
 * Checks, before any training, that the configured evaluation can run: a val dataset and an
 * evaluator for it that accepts the metric names (evaluators validate them as they are built).
 * Throws ConfigError/UserError.
 */
export function checkEvaluation(cfg: Config, valData: BuiltDataset | null): void {
  if (!cfg.evaluation) return;
  if (!valData) throw new ConfigError('evaluation is set but data.val is missing', 'data.val');
  buildEvaluator(cfg, valData, configMetric(cfg));
}

function stampOf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * Writes `<workDir>/config.json`. When one exists with a different content (another run, or the same
 * run resumed with other settings) it is first kept as `config_<its mtime>.json`, as the logs are.
 * Returns the path of the kept old config, if any. Throws FileError.
 */
export function writeRunConfig(workDir: string, cfg: Config): string | null {
  const path = join(workDir, 'config.json');
  const text = `${JSON.stringify(cfg, null, 2)}\n`;
  let kept: string | null = null;
  if (existsSync(path)) {
    if (readFileSync(path, 'utf8') === text) return null;
    kept = join(workDir, `config_${stampOf(statSync(path).mtime)}.json`);
    for (let i = 1; existsSync(kept); i++) kept = join(workDir, `config_${stampOf(statSync(path).mtime)}_${i}.json`);
    try {
      renameSync(path, kept);
    } catch (e) {
      throw fileError(e, path, `keep the previous run's config as ${kept}`);
    }
  }
  writeFileAtomic(path, new TextEncoder().encode(text));
  return kept;
}

/**
 * Seeds initialisation, builds model and data, checks everything the run needs (datasets, metrics,
 * the checkpoint to resume), restores state as the options/config ask, and only then touches the
 * work dir: stale temp files of killed runs are removed and config.json is written. A run refused
 * here leaves the work dir as it was (not even created).
 */
export function createRunner(cfg: Config, opts: TrainOptions): Runner {
  setInitSeed(opts.seed);
  const model = buildModel(cfg);
  const trainData = buildDataset(cfg, 'train');
  if (!trainData) throw new ConfigError('data.train is required to train', 'data.train');
  const valData = cfg.evaluation ? buildDataset(cfg, 'val') : null;
  checkEvaluation(cfg, valData);
  // The model's own training-time streams (samplers, dropout) are checkpointed so that resume is exact.
  const rng = opts.rng ?? model.rng ?? null;
  const runner = new Runner({ cfg, model, trainData, valData, workDir: opts.workDir, seed: opts.seed, log: opts.log, rng, backend: opts.backend, dist: opts.dist });
  let resume = opts.resumeFrom ?? cfg.resume_from ?? null;
  if (!resume && (opts.autoResume ?? cfg.auto_resume)) {
    resume = findLatestCheckpoint(opts.workDir);
    if (!resume) opts.log.info(`auto-resume: no checkpoint in ${opts.workDir}; starting from scratch`);
  }
  if (resume) runner.resume(resume, { allowNonfinite: opts.allowNonfinite });
  else if (cfg.load_from) runner.loadWeights(cfg.load_from);
  // In a data-parallel job rank 0 alone writes to the work dir.
  if (!opts.dist || opts.dist.isMain) {
    makeDir(opts.workDir);
    const stale = removeStaleTempFiles(opts.workDir);
    if (stale.length) opts.log.info(`removed ${stale.length} partial file(s) left by killed runs: ${stale.map((f) => basename(f)).join(', ')}`);
    const kept = writeRunConfig(opts.workDir, cfg);
    if (kept) opts.log.info(`config.json of the previous run differs from this one; kept it as ${kept}`);
  }
  return runner;
}
