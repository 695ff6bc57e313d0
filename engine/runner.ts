// The training loop (mmcv's EpochBasedRunner and IterBasedRunner in one class): per iteration it
// sets the scheduled learning rates, fetches a batch, computes losses and gradients, guards against
// NaN/Inf, clips, steps the optimizer and calls the hooks (logger, eval, checkpoint).
import { join } from '#platform/path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../core/config_root';
import { CheckpointError, TrainingStopped } from '../core/errors';
import type { BuiltDataset, DataLoader, TrainableModel } from '../core/registry';
import { assertFiniteCheckpoint, type CheckpointMeta, loadOptimizerState, loadStateDict, readCheckpoint, saveCheckpoint } from '../checkpoint';
import { updateLink } from './checkpoint';
import { buildEvaluator, disposeBatch, evalLoader, inferenceOnDataset } from './evaluate';
import { testLoaderOptions } from './test_loader';
import { CheckpointHook } from './hooks/checkpoint_hook';
import { EvalHook } from './hooks/eval_hook';
import type { Hook, IterOutputs } from './hooks/hook';
import { LoggerHook } from './hooks/logger_hook';
import { applyLoggerHooks } from './hooks/tensorboard_hook';
import type { LogSink } from './log_writer';
import { LrSchedule } from './lr_schedule';
import { buildOptimizer, clipGradNorm, gradNorm, type Optimizer } from './optimizers';
import type { DistContext } from './dist/context';

/** A random generator whose position can be saved and restored (core/rng's Rng satisfies it). */
export interface RngLike {
  state(): unknown;
  setState(state: never): void;
}

export interface RunnerOptions {
  cfg: Config;
  model: TrainableModel;
  trainData: BuiltDataset;
  valData?: BuiltDataset | null;
  workDir: string;
  seed: number;
  log: LogSink;
  rng?: RngLike | null;
  /** Hooks added after the configured ones. */
  extraHooks?: Hook[];
  /** Recorded in checkpoints and logs. */
  backend?: string;
  /** Data-parallel job (--launcher mpi): sharded data, averaged gradients, rank-0 files, distributed eval. */
  dist?: DistContext | null;
}

/** The dataset's class names (label k = CLASSES[k]), or null when it has none. */
export function datasetClasses(ds: BuiltDataset): string[] | null {
  const c = (ds.raw as { classes?: unknown } | undefined)?.classes;
  return Array.isArray(c) && c.every((x) => typeof x === 'string') ? [...c] : null;
}

export class Runner {
  iter = 0;
  epoch = 0;
  innerIter = 0;
  readonly byEpoch: boolean;
  readonly maxIters: number;
  readonly maxEpochs: number;
  readonly itersPerEpoch: number;
  readonly optimizer: Optimizer;
  readonly schedule: LrSchedule;
  readonly hooks: Hook[] = [];
  readonly trainLoader: DataLoader;
  readonly log: LogSink;
  readonly workDir: string;
  metrics: Record<string, number> = {};
  best: CheckpointMeta['best'] = null;
  /** Set by the eval hook when a new best is found; the runner writes it after the iteration's hooks. */
  bestPending: string | null = null;
  /** The checkpoint written during the current iteration/epoch, if any. */
  lastSaved: string | null = null;
  private evaluatedNow = false;
  private tensorBaseline: number | null = null;
  /**
   * Live tensors that belong to neither the model nor the optimizer, counted when the runner is built
   * (before any resume): the tensor guard expects this plus the model's and optimizer's own tensors,
   * so a leak while loading a checkpoint is caught too.
   */
  private outsideTensors = 0;
  private readonly paramByVar = new Map<string, string>();
  /** False on ranks other than 0 of a distributed job: they write no checkpoints (mmcv master_only). */
  readonly writesFiles: boolean;

  constructor(readonly opts: RunnerOptions) {
    const { cfg } = opts;
    this.workDir = opts.workDir;
    this.writesFiles = !opts.dist || opts.dist.isMain;
    // log_config.hooks (TensorboardLoggerHook) only on the rank that writes files, as mmcv's master_only.
    this.log = this.writesFiles ? applyLoggerHooks(opts.log, cfg.log_config?.hooks, opts.workDir) : opts.log;
    this.trainLoader = opts.trainData.loader({
      batchSize: cfg.data.samples_per_gpu,
      workers: cfg.data.workers_per_gpu,
      shuffle: true,
      seed: opts.seed,
      sampler: opts.dist?.trainSampler(opts.trainData, opts.seed, cfg.data.samples_per_gpu),
    });
    this.itersPerEpoch = this.trainLoader.length;
    if (this.itersPerEpoch <= 0) throw new TrainingStopped('the training data loader yields no batches (empty dataset or batch larger than the dataset with drop_last)');
    if (cfg.runner.type === 'EpochBasedRunner') {
      this.byEpoch = true;
      this.maxEpochs = cfg.runner.max_epochs;
      this.maxIters = this.maxEpochs * this.itersPerEpoch;
    } else {
      this.byEpoch = false;
      this.maxIters = cfg.runner.max_iters;
      this.maxEpochs = Math.ceil(this.maxIters / this.itersPerEpoch);
    }
    this.optimizer = buildOptimizer(opts.model.module, cfg.optimizer);
    for (const p of this.optimizer.params) this.paramByVar.set(p.variable.name, p.name);
    this.schedule = new LrSchedule(cfg.lr_config, { maxIters: this.maxIters, maxEpochs: this.maxEpochs });

    this.hooks.push(new LoggerHook(cfg.log_config?.interval ?? 50));
    const ev = cfg.evaluation;
    if (ev && opts.valData) {
      const metric = ev.metric === undefined ? [] : Array.isArray(ev.metric) ? ev.metric : [ev.metric];
      this.hooks.push(new EvalHook(ev.interval, ev.by_epoch ?? this.byEpoch, metric, ev.save_best ?? null, ev.rule ?? null));
    }
    const ck = cfg.checkpoint_config ?? { interval: 1 };
    this.hooks.push(new CheckpointHook(ck.interval, ck.by_epoch ?? this.byEpoch, ck));
    this.hooks.push(...(opts.extraHooks ?? []));
    this.outsideTensors = tf.memory().numTensors - this.ownTensors();
  }

  /** Tensors owned by the model (parameters and buffers) and the optimizer (state buffers). */
  private ownTensors(): number {
    return this.opts.model.module.namedSlots().length + this.optimizer.numTensors();
  }

  /** Scheduled lr of every parameter for the iteration about to run. */
  currentLrs(): number[] {
    const at = { iter: this.iter, epoch: this.epoch };
    return this.optimizer.params.map((p) => this.schedule.at(p.baseLr, at));
  }

  meta(): CheckpointMeta {
    return {
      iter: this.iter,
      epoch: this.epoch,
      inner_iter: this.innerIter,
      seed: this.opts.seed,
      config: this.opts.cfg,
      rng: this.opts.rng?.state() ?? null,
      scheduler: this.schedule.describe({ iter: this.iter, epoch: this.epoch }),
      optimizer: { ...this.optimizer.hyperParams(), steps: this.optimizer.steps, lr: this.opts.cfg.optimizer.lr },
      metrics: this.metrics,
      best: this.best,
      // Class names travel with the weights (mmdet's meta.CLASSES), so tools/infer can caption by name.
      CLASSES: datasetClasses(this.opts.trainData),
      backend: this.opts.backend ?? tf.getBackend(),
      time: new Date().toISOString(),
    };
  }

  async saveCheckpoint(path: string, opts: { optimizer: boolean; latest: boolean }): Promise<void> {
    this.lastSaved = path;
    if (!this.writesFiles) return;
    await saveCheckpoint(path, this.opts.model.module, opts.optimizer ? this.optimizer : null, this.meta());
    this.lastSaved = path;
    if (opts.latest) updateLink(join(this.workDir, 'latest.safetensors'), path, 'symlink');
  }

  /**
   * Restores weights, optimizer state, position, the model's random stream and best metric from a
   * training checkpoint. Data order, augmentation and worker streams are functions of (seed, epoch,
   * sample index), so restoring the position restores them. Throws CheckpointError for a file that is
   * not a training checkpoint, holds NaN/Inf (unless `allowNonfinite`) or does not match.
   */
  resume(path: string, opts: { allowNonfinite?: boolean } = {}): void {
    const ck = readCheckpoint(path);
    if (!opts.allowNonfinite) assertFiniteCheckpoint(ck, path);
    if (!ck.meta) throw new CheckpointError(`${path}: not a training checkpoint (no training metadata); use load_from to initialise weights from it`);
    const wantType = this.optimizer.hyperParams().type;
    if (ck.meta.optimizer && ck.meta.optimizer.type !== wantType) {
      throw new CheckpointError(`${path}: optimizer state is for ${String(ck.meta.optimizer.type)} but the config uses ${String(wantType)}`);
    }
    loadStateDict(this.opts.model.module, ck.stateDict, { strict: true, source: path });
    loadOptimizerState(this.opts.model.module, this.optimizer, ck, path);
    this.iter = ck.meta.iter;
    this.epoch = ck.meta.epoch;
    this.innerIter = ck.meta.inner_iter ?? 0;
    this.metrics = ck.meta.metrics ?? {};
    this.best = ck.meta.best ?? null;
    if (this.opts.rng && ck.meta.rng != null) this.opts.rng.setState(ck.meta.rng as never);
    this.log.info(`resumed from ${path}: epoch ${this.epoch}, iter ${this.iter}`);
    if (ck.meta.seed !== undefined && ck.meta.seed !== this.opts.seed) {
      this.log.info(`warning: ${path} was trained with seed ${ck.meta.seed} but this run uses seed ${this.opts.seed}; data order and augmentation will differ from the interrupted run`);
    }
  }

  /** Initialises weights from a checkpoint (load_from): non-strict, reporting what did not load. */
  loadWeights(path: string): void {
    const ck = readCheckpoint(path);
    const r = loadStateDict(this.opts.model.module, ck.stateDict, { strict: false, mismatch: 'skip', source: path });
    this.log.info(`load_from ${path}: ${ck.stateDict.size - r.unexpected.length - r.mismatched.length} tensors loaded`);
    if (r.missing.length) this.log.info(`  missing keys: ${r.missing.join(', ')}`);
    if (r.unexpected.length) this.log.info(`  unexpected keys: ${r.unexpected.join(', ')}`);
    if (r.mismatched.length) this.log.info(`  shape mismatches: ${r.mismatched.join(', ')}`);
  }

  async evaluate(metric: string[]): Promise<Record<string, number>> {
    this.evaluatedNow = true;
    const val = this.opts.valData;
    if (!val) throw new TrainingStopped('evaluation is configured but data.val is not set');
    const evaluator = buildEvaluator(this.opts.cfg, val, metric);
    if (this.opts.dist) return this.opts.dist.evaluate(this.opts.model, val, evaluator, { workers: this.opts.cfg.data.workers_per_gpu });
    const { metrics } = await inferenceOnDataset(this.opts.model, evalLoader(val, testLoaderOptions(this.opts.cfg, 'val')), evaluator);
    return metrics;
  }

  private async callHooks(stage: 'beforeRun' | 'beforeEpoch' | 'afterEpoch' | 'afterRun'): Promise<void> {
    for (const h of this.hooks) await h[stage]?.(this);
  }

  /** Writes a pending best checkpoint: a hard link to this step's checkpoint if one was saved. */
  private async flushBest(): Promise<void> {
    if (!this.bestPending) return;
    if (!this.writesFiles) {
      this.bestPending = null;
      return;
    }
    const expected = join(this.workDir, this.byEpoch ? `epoch_${this.epoch}.safetensors` : `iter_${this.iter}.safetensors`);
    if (this.lastSaved === expected) updateLink(this.bestPending, expected, 'hardlink');
    else await saveCheckpoint(this.bestPending, this.opts.model.module, null, this.meta());
    this.bestPending = null;
  }

  /** One optimisation step on `batch`; returns the logged values. Throws TrainingStopped on NaN/Inf. */
  private async step(batch: unknown): Promise<Record<string, number>> {
    // The forward pass updates buffers (BN running statistics) and draws from the model's stream
    // before the loss is known: keep what they were, so the NaN guard can save the state from
    // before this iteration. Clones share the variables' data (assign swaps it), so this costs no copy.
    const before = this.snapshotBuffers();
    try {
      return await this.stepFrom(batch, before);
    } finally {
      tf.dispose(before.buffers.map(([, t]) => t));
    }
  }

  private snapshotBuffers(): { buffers: [tf.Variable, tf.Tensor][]; rng: unknown } {
    const buffers: [tf.Variable, tf.Tensor][] = [];
    for (const [, slot] of this.opts.model.module.namedSlots()) if (!slot.variable.trainable) buffers.push([slot.variable, tf.clone(slot.variable)]);
    return { buffers, rng: this.opts.rng?.state() ?? null };
  }

  private async stepFrom(batch: unknown, before: { buffers: [tf.Variable, tf.Tensor][]; rng: unknown }): Promise<Record<string, number>> {
    await this.opts.model.prepareTrain?.(batch);
    const lrs = this.currentLrs();
    const vars = this.optimizer.params.map((p) => p.variable);
    const clip = this.opts.cfg.optimizer_config?.grad_clip ?? null;
    let names: string[] = [];
    let logVec: tf.Tensor | null = null;
    const local = tf.tidy(() => {
      const { grads: byVar } = tf.variableGrads(() => {
        const losses = this.opts.model.forwardTrain(batch);
        names = Object.keys(losses);
        const terms = names.filter((k) => k.includes('loss')).map((k) => losses[k]);
        if (!terms.length) throw new TrainingStopped(`forwardTrain returned no loss term (keys: ${names.join(', ') || 'none'}); keys containing 'loss' are optimised`);
        const total = terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar);
        logVec = tf.keep(tf.stack([...names.map((k) => tf.reshape(losses[k], [])), total]));
        return total;
      }, vars);
      const g: Record<string, tf.Tensor> = {};
      for (const [k, t] of Object.entries(byVar)) g[this.paramByVar.get(k) ?? k] = t;
      return { g, logVec: logVec! as tf.Tensor1D };
    });
    // Data-parallel: gradients and logged values averaged over the ranks before clipping (as DDP).
    const reduced = this.opts.dist ? await this.opts.dist.averageGradients(local.g, local.logVec) : local;
    logVec = reduced.logVec;
    const { stats, grads } = tf.tidy(() => {
      let g = reduced.g;
      let norm: tf.Scalar;
      if (clip) ({ grads: g, totalNorm: norm } = clipGradNorm(g, clip.max_norm, clip.norm_type ?? 2));
      else norm = gradNorm(g);
      return { stats: tf.concat([logVec!, tf.reshape(norm, [1])]), grads: g };
    });
    // Clipping made new tensors: the unclipped ones (created outside that tidy) are freed here.
    const kept = new Set(Object.values(grads));
    tf.dispose(Object.values(reduced.g).filter((t: tf.Tensor) => !kept.has(t)));
    tf.dispose(logVec!);
    let values: Float32Array;
    try {
      values = (await stats.data()) as Float32Array;
    } finally {
      stats.dispose();
    }
    const out: Record<string, number> = {};
    names.forEach((k, i) => (out[k] = values[i]));
    out.loss = values[names.length];
    out.grad_norm = values[names.length + 1];
    const bad = Object.entries(out).filter(([, v]) => !Number.isFinite(v));
    if (bad.length) {
      tf.dispose(grads);
      // The update was not applied, so the parameters are still the last good state; buffers and the
      // model's random stream are put back to where they were before this iteration's forward pass.
      for (const [v, t] of before.buffers) v.assign(t);
      if (this.opts.rng && before.rng != null) this.opts.rng.setState(before.rng as never);
      const path = join(this.workDir, `nan_guard_iter_${this.iter}.safetensors`);
      await this.saveCheckpoint(path, { optimizer: true, latest: false });
      throw new TrainingStopped(
        `training stopped at iter ${this.iter + 1} (epoch ${this.epoch + 1}): ${bad.map(([k, v]) => `${k} = ${v}`).join(', ')}; ` +
          `the last good state (before this iteration) is saved to ${path}`,
        path,
      );
    }
    this.optimizer.step(grads, lrs);
    tf.dispose(grads);
    return out;
  }

  private checkTensorCount(): void {
    const n = tf.memory().numTensors;
    const limit = this.opts.cfg.tensor_guard?.max_growth ?? 64;
    if (this.tensorBaseline === null) {
      // First check of this run: everything beyond the model, the optimizer and what existed before
      // the runner (and any resume) is growth, e.g. state cloned while loading a checkpoint.
      const expected = this.outsideTensors + this.ownTensors();
      if (n - expected > limit) {
        throw new TrainingStopped(
          `training stopped at iter ${this.iter}: ${n} live tensors after the first iteration, but the model and optimizer own ${this.ownTensors()} and ${this.outsideTensors} others existed before (tensor_guard.max_growth ${limit}); a tensor leaks while resuming, in forwardTrain, the data loader or a hook`,
        );
      }
    }
    if (this.tensorBaseline === null || this.evaluatedNow) {
      this.tensorBaseline = n;
      this.evaluatedNow = false;
      return;
    }
    if (n - this.tensorBaseline > limit) {
      throw new TrainingStopped(
        `training stopped at iter ${this.iter}: live tensors grew from ${this.tensorBaseline} to ${n} (tensor_guard.max_growth ${limit}); a tensor leaks in forwardTrain, the data loader or a hook`,
      );
    }
  }

  /** Trains until max_iters / max_epochs. Returns the final position and last metrics. */
  async run(): Promise<{ iter: number; epoch: number; metrics: Record<string, number> }> {
    this.opts.model.module.train();
    this.log.info(
      `start training: ${this.byEpoch ? `${this.maxEpochs} epochs x ${this.itersPerEpoch} iters` : `${this.maxIters} iters (${this.itersPerEpoch} per epoch)`}, ` +
        `from iter ${this.iter}, work_dir ${this.workDir}, backend ${this.opts.backend ?? tf.getBackend()}`,
    );
    await this.callHooks('beforeRun');
    while (this.iter < this.maxIters) {
      this.trainLoader.setEpoch(this.epoch);
      // A checkpoint written by an iteration hook on the last batch of an epoch has inner_iter equal
      // to the epoch length: nothing is left to fetch, only the epoch end below. Seeking the loader
      // there would leave its start offset set for the next epoch (an empty epoch after resume).
      const skip = this.innerIter < this.itersPerEpoch ? this.innerIter : 0;
      if (skip > 0 && this.trainLoader.startAt) this.trainLoader.startAt(skip);
      await this.callHooks('beforeEpoch');
      const it = this.trainLoader[Symbol.asyncIterator]();
      let exhausted = false;
      const startIter = this.iter;
      try {
        if (skip > 0 && !this.trainLoader.startAt) {
          // Mid-epoch resume on a loader that cannot seek: replay and drop the consumed batches.
          for (let i = 0; i < skip; i++) {
            const r = await it.next();
            if (r.done) break;
            disposeBatch(r.value);
          }
        }
        while (this.iter < this.maxIters && this.innerIter < this.itersPerEpoch) {
          const t0 = performance.now();
          const r = await it.next();
          if (r.done) {
            exhausted = true;
            break;
          }
          const dataTime = (performance.now() - t0) / 1000;
          const lr = this.schedule.at(this.opts.cfg.optimizer.lr, { iter: this.iter, epoch: this.epoch });
          let values: Record<string, number>;
          try {
            values = await this.step(r.value);
          } finally {
            disposeBatch(r.value);
          }
          this.iter++;
          this.innerIter++;
          this.lastSaved = null;
          const outputs: IterOutputs = { values, time: (performance.now() - t0) / 1000, dataTime, lr };
          for (const h of this.hooks) await h.afterIter?.(this, outputs);
          await this.flushBest();
          this.checkTensorCount();
        }
      } finally {
        await it.return?.();
      }
      if (exhausted && this.iter === startIter) throw new TrainingStopped(`the training data loader yielded no batches in epoch ${this.epoch + 1}`);
      if (exhausted || this.innerIter >= this.itersPerEpoch) {
        this.epoch++;
        this.innerIter = 0;
        this.lastSaved = null;
        await this.callHooks('afterEpoch');
        await this.flushBest();
      }
    }
    await this.callHooks('afterRun');
    this.log.info(`training done: epoch ${this.epoch}, iter ${this.iter}`);
    return { iter: this.iter, epoch: this.epoch, metrics: this.metrics };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
