// The top-level config schema, in mmdetection/mmsegmentation 2.x names. Model and dataset parts are
// validated through their registries; engine parts (optimizer, schedules, hooks) are declared here.
import { type Infer, s } from './config_schema';
import { DATASETS, MODELS } from './registry';

const multipliers = s.object({ lr_mult: s.number({ min: 0 }).optional(), decay_mult: s.number({ min: 0 }).optional() });

export const paramwiseSchema = s.object({
  bias_lr_mult: s.number({ min: 0 }).optional(),
  bias_decay_mult: s.number({ min: 0 }).optional(),
  norm_decay_mult: s.number({ min: 0 }).optional(),
  dwconv_decay_mult: s.number({ min: 0 }).optional(),
  /** Substring of a parameter name -> multipliers; longest key wins (mmcv DefaultOptimizerConstructor). */
  custom_keys: s.record(multipliers).optional(),
});

export const optimizerSchema = s.oneOf(
  'type',
  {
    SGD: s.object({
      lr: s.number({ min: 0 }),
      momentum: s.number({ min: 0 }).optional(),
      dampening: s.number({ min: 0 }).optional(),
      weight_decay: s.number({ min: 0 }).optional(),
      nesterov: s.boolean().optional(),
      paramwise_cfg: paramwiseSchema.optional(),
    }),
    AdamW: s.object({
      lr: s.number({ min: 0 }),
      betas: s.tuple(s.number({ min: 0, max: 1 }), s.number({ min: 0, max: 1 })).optional(),
      eps: s.number({ min: 0 }).optional(),
      weight_decay: s.number({ min: 0 }).optional(),
      paramwise_cfg: paramwiseSchema.optional(),
    }),
  },
  'optimizer',
);

const warmupFields = {
  warmup: s.enum(['linear', 'constant', 'exp'] as const).nullable().optional(),
  warmup_iters: s.int({ min: 0 }).optional(),
  warmup_ratio: s.number({ min: 0, max: 1 }).optional(),
  by_epoch: s.boolean().optional(),
};

export const lrConfigSchema = s.oneOf(
  'policy',
  {
    step: s.object({ ...warmupFields, step: s.union(s.int({ min: 1 }), s.array(s.int({ min: 0 }))), gamma: s.number({ min: 0 }).optional(), min_lr: s.number({ min: 0 }).nullable().optional() }),
    poly: s.object({ ...warmupFields, power: s.number({ min: 0 }).optional(), min_lr: s.number({ min: 0 }).optional() }),
    fixed: s.object({ ...warmupFields }),
    /** mmcv CosineAnnealingLrUpdaterHook: target + (base - target) * (1 + cos(pi * progress / max)) / 2. */
    CosineAnnealing: s.object({ ...warmupFields, min_lr: s.number({ min: 0 }).optional(), min_lr_ratio: s.number({ min: 0, max: 1 }).optional() }),
  },
  'lr schedule',
);

export const runnerSchema = s.oneOf(
  'type',
  {
    EpochBasedRunner: s.object({ max_epochs: s.int({ min: 1 }) }),
    IterBasedRunner: s.object({ max_iters: s.int({ min: 1 }) }),
  },
  'runner',
);

export const rootSchema = s.object({
  model: MODELS.schema(),
  data: s.object({
    samples_per_gpu: s.int({ min: 1 }),
    workers_per_gpu: s.int({ min: 0 }),
    /** mmdet 2.x val_dataloader / test_dataloader: test-time batch size (default 1) and workers. */
    val_dataloader: s.object({ samples_per_gpu: s.int({ min: 1 }).optional(), workers_per_gpu: s.int({ min: 0 }).optional() }).optional(),
    test_dataloader: s.object({ samples_per_gpu: s.int({ min: 1 }).optional(), workers_per_gpu: s.int({ min: 0 }).optional() }).optional(),
    train: DATASETS.schema(),
    val: DATASETS.schema().optional(),
    test: DATASETS.schema().optional(),
  }),
  optimizer: optimizerSchema,
  optimizer_config: s.object({ grad_clip: s.object({ max_norm: s.number({ min: 0 }), norm_type: s.number({ min: 1 }).optional() }).nullable().optional() }).optional(),
  lr_config: lrConfigSchema,
  runner: runnerSchema,
  checkpoint_config: s
    .object({
      interval: s.int({ min: -1 }),
      by_epoch: s.boolean().optional(),
      max_keep_ckpts: s.int({ min: -1 }).optional(),
      save_optimizer: s.boolean().optional(),
      save_last: s.boolean().optional(),
    })
    .optional(),
  evaluation: s
    .object({
      interval: s.int({ min: 1 }),
      metric: s.union(s.string(), s.array(s.string())).optional(),
      by_epoch: s.boolean().optional(),
      /** Metric name whose best value gets a `best_<metric>` checkpoint link ('auto': the first metric). */
      save_best: s.string().nullable().optional(),
      rule: s.enum(['greater', 'less'] as const).optional(),
      /** EVALUATORS type scoring data.val/test (default: the one the dataset type names). */
      evaluator: s.string().optional(),
    })
    .optional(),
  log_config: s
    .object({
      interval: s.int({ min: 1 }),
      hooks: s.array(s.object({ type: s.enum(['TextLoggerHook'] as const), by_epoch: s.boolean().optional() })).optional(),
    })
    .optional(),
  /** Stops training when the live tensor count grows by more than this across iterations. */
  tensor_guard: s.object({ max_growth: s.int({ min: 0 }) }).optional(),
  work_dir: s.string().optional(),
  seed: s.int({ min: 0 }).nullable().optional(),
  load_from: s.string().nullable().optional(),
  resume_from: s.string().nullable().optional(),
  auto_resume: s.boolean().optional(),
  workflow: s.array(s.tuple(s.enum(['train', 'val'] as const), s.int({ min: 1 }))).optional(),
  log_level: s.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const).optional(),
});

export type Config = Infer<typeof rootSchema>;
export type OptimizerConfig = Infer<typeof optimizerSchema>;
export type LrConfig = Infer<typeof lrConfigSchema>;
export type RunnerConfig = Infer<typeof runnerSchema>;
export type ParamwiseConfig = Infer<typeof paramwiseSchema>;
