// Typed registries: the extension points where configs name a class by its `type`.
// Each registration declares the config schema of its type (strict: unknown keys are errors) and a
// build function receiving the validated, typed config. Registration is explicit: a module such as
// `models/index.ts` imports the parts and calls `register`, and tools import that module.
import type * as tf from '@tensorflow/tfjs';
import type { Module } from '../nn/module';
import { ConfigError, nearestNames } from './errors';
import { type Infer, ObjectSchema, type Shape, type TaggedConfig, TaggedSchema, s } from './config_schema';

export interface RegistryEntry<T, C, S extends Shape> {
  schema: ObjectSchema<S>;
  build: (cfg: Infer<ObjectSchema<S>> & { type: string }, ctx: C) => T;
  /** One line shown in listings. */
  doc?: string;
}

export class Registry<T, C = void> {
  private readonly entries = new Map<string, RegistryEntry<T, C, Shape>>();

  constructor(
    /** Singular noun used in messages: 'backbone', 'model', 'dataset'. */
    readonly what: string,
  ) {}

  /**
   * Registers `type`. The schema lists every key except `type`. Registering a taken name is an error
   * (two parts claiming one name would silently shadow each other) unless `{ override: true }`.
   */
  register<S extends Shape>(type: string, entry: RegistryEntry<T, C, S>, opts: { override?: boolean } = {}): void {
    if (this.entries.has(type) && !opts.override) throw new Error(`${this.what} type '${type}' is already registered`);
    this.entries.set(type, entry as unknown as RegistryEntry<T, C, Shape>);
  }

  has(type: string): boolean {
    return this.entries.has(type);
  }

  types(): string[] {
    return [...this.entries.keys()];
  }

  get(type: string): RegistryEntry<T, C, Shape> {
    const e = this.entries.get(type);
    if (!e) {
      const near = nearestNames(type, this.entries.keys());
      throw new ConfigError(`unknown ${this.what} type '${type}'; nearest valid names: ${near.join(', ') || '(none registered)'}`, 'type');
    }
    return e;
  }

  /** Schema of "a dict of one of this registry's types", resolved when validated. */
  schema(): TaggedSchema<TaggedConfig> {
    return s.tagged<TaggedConfig>('type', () => new Map([...this.entries].map(([k, e]) => [k, e.schema])), this.what);
  }

  /**
   * Builds from a config dict. The dict is validated against the type's schema first (configs loaded
   * through core/config are already validated; this also guards direct calls from code).
   */
  build(cfg: TaggedConfig, ctx: C, path = ''): T {
    const entry = this.get(cfg.type);
    const rest: Record<string, unknown> = { ...cfg };
    delete rest.type;
    const sub = { origin: () => '', issues: [] as { path: string; message: string }[] };
    entry.schema.check(rest, path, sub);
    if (sub.issues.length) throw new ConfigError(`${sub.issues[0].path}: ${sub.issues[0].message} (building ${this.what} '${cfg.type}')`, sub.issues[0].path);
    return entry.build(cfg as never, ctx);
  }
}

// ---- The contracts of the extension points (what the engine drives) ----

/** Loss terms by name; keys containing 'loss' are summed into the training objective (mmdet's rule). */
export type LossDict = Record<string, tf.Scalar>;

/** A model the runner trains and evaluates. */
export interface TrainableModel<Batch = unknown, Result = unknown> {
  /** The module tree whose parameters are trained and whose state_dict is checkpointed. */
  module: Module;
  /** Forward pass in training mode; the runner calls it inside tf.variableGrads (so inside a tidy). */
  forwardTrain(batch: Batch): LossDict;
  /** Optional asynchronous work before forwardTrain on the same batch (outside the gradient tape). */
  prepareTrain?(batch: Batch): Promise<void>;
  /** Inference on a batch: one result per image, free of tensors (plain numbers/typed arrays). */
  predict?(batch: Batch): Result[] | Promise<Result[]>;
  dispose?(): void;
  /**
   * The model's own random stream used in training (e.g. anchor/RoI sampling, seeded by the model's
   * config). The runner saves and restores its position in checkpoints, so resume is exact.
   */
  rng?: { state(): unknown; setState(state: never): void };
}

/** An async stream of batches for one epoch at a time. */
export interface DataLoader<Batch = unknown> {
  [Symbol.asyncIterator](): AsyncIterator<Batch>;
  /** Batches per epoch. */
  readonly length: number;
  /** Selects the epoch's shuffling order (deterministic in seed and epoch). */
  setEpoch(epoch: number): void;
  /** Optional: makes the next iteration start at batch `index` of the epoch (exact mid-epoch resume). */
  startAt?(index: number): void;
}

export interface LoaderOptions {
  batchSize: number;
  workers: number;
  shuffle: boolean;
  seed: number;
  dropLast?: boolean;
  /**
   * Optional: the sample indices of each epoch come from this sampler (e.g. one rank's shard in
   * distributed training, engine/dist/sampler.ts) instead of the loader's own order; `shuffle` is then unused.
   */
  sampler?: IndexSampler;
}

/** Which dataset indices an epoch visits, in order (torch.utils.data.Sampler). */
export interface IndexSampler {
  /** Indices per epoch (the same every epoch). */
  readonly length: number;
  /** The epoch's indices; deterministic in (seed, epoch). */
  indices(epoch: number): Int32Array;
}

/** A dataset as built from `data.train` / `data.val` / `data.test`. */
export interface BuiltDataset<Batch = unknown> {
  readonly length: number;
  /**
   * Optional aspect-ratio group of every sample (mmdet's `dataset.flag`: 1 if width / height > 1,
   * else 0); datasets that have it are sampled by (Distributed)GroupSampler in training.
   */
  groupFlags?(): Uint8Array;
  loader(opts: LoaderOptions): DataLoader<Batch>;
  /** EVALUATORS type that scores predictions on this dataset unless `evaluation.evaluator` names another. */
  readonly evaluator?: string;
  /** What evaluators read the ground truth from (datasets/base's RawDataset for the project's datasets). */
  readonly raw?: unknown;
}

/**
 * What an evaluation produces: the metrics (mmdet/mmseg names, e.g. bbox_mAP, mIoU) and the text a
 * tool prints before them (COCOeval summaries, per-class tables).
 */
export interface EvaluationReport {
  metrics: Record<string, number>;
  /** Printed before the metric lines; '' when there is nothing more to say. */
  text: string;
  /** Metric keys a tool prints one per line (all of `metrics` when absent). */
  headline?: string[];
}

/**
 * Scores predictions as they arrive (detectron2's DatasetEvaluator): `reset` before a pass,
 * `process` after every batch (it keeps only what the metrics need, so memory stays bounded on a
 * large validation set), `evaluate` once at the end. Batches come in dataset order.
 */
export interface Evaluator<Batch = unknown, Result = unknown> {
  reset(): void;
  /** One batch and the model's predictions for it (one per image, in batch order). */
  process(inputs: Batch, outputs: readonly Result[]): void | Promise<void>;
  evaluate(): EvaluationReport | Promise<EvaluationReport>;
  /**
   * Optional: writes the processed results for `tools/eval --out <out>` (`header` names the config,
   * checkpoint and split) and returns the written paths.
   */
  writeResults?(out: string, header: Record<string, unknown>, report: EvaluationReport): string[];
}

export interface EvaluatorBuildContext {
  /** The dataset whose predictions are scored. */
  dataset: BuiltDataset;
}

export interface DatasetBuildContext {
  /** 'train' | 'val' | 'test': which split of `data` is being built. */
  split: 'train' | 'val' | 'test';
}

export const BACKBONES = new Registry<Module>('backbone');
export const NECKS = new Registry<Module>('neck');
export const HEADS = new Registry<Module>('head');
export const MODELS = new Registry<TrainableModel>('model');
export const DATASETS = new Registry<BuiltDataset, DatasetBuildContext>('dataset');
export const EVALUATORS = new Registry<Evaluator, EvaluatorBuildContext>('evaluator');
