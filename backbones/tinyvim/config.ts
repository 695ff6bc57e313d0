// TinyViM configuration: the official constructor's fields, the S/B/L variants, and validation.
import { ConfigError } from '../../core/errors';
import { type Infer, s, validate } from '../../core/config_schema';

export const tinyVimConfigSchema = s.object({
  layers: s.array(s.int({ min: 1 }), { length: 4 }).describedAs('blocks per stage'),
  embed_dims: s.array(s.int({ min: 2 }), { length: 4 }).describedAs('channels per stage'),
  mlp_ratios: s.union(s.number({ min: 0 }), s.array(s.number({ min: 0 }), { length: 4 })).optional().describedAs('FFN hidden = ratio * C (default 4)'),
  downsamples: s.array(s.boolean(), { length: 4 }).optional().describedAs('entry i: a stride-2 Embedding follows stage i+1 (i < 3); one is also built where widths change'),
  ssm_num: s.int({ min: 1 }).optional().describedAs('TViM blocks at the end of each stage (default 1; stage 3 also gets its middle block)'),
  fork_feat: s.boolean().optional().describedAs('dense-prediction mode: four normalised stage outputs'),
  num_classes: s.int({ min: 0 }).optional().describedAs('classifier outputs (0: identity head)'),
  distillation: s.boolean().optional().describedAs('add dist_head; eval returns (head + dist_head) / 2'),
  d_state: s.int({ min: 1 }).optional().describedAs('SSM state size (official: 8)'),
});

export type TinyViMConfigInput = Infer<typeof tinyVimConfigSchema>;

/** A fully resolved configuration (every optional field filled with the official default). */
export interface TinyViMConfig {
  layers: number[];
  embed_dims: number[];
  mlp_ratios: number[];
  downsamples: boolean[];
  ssm_num: number;
  fork_feat: boolean;
  num_classes: number;
  distillation: boolean;
  d_state: number;
}

export type TinyViMVariant = 'S' | 'B' | 'L';

export const TINYVIM_VARIANTS: Record<TinyViMVariant, { layers: number[]; embed_dims: number[] }> = {
  S: { layers: [3, 3, 9, 6], embed_dims: [48, 64, 168, 224] },
  B: { layers: [4, 3, 10, 5], embed_dims: [48, 96, 192, 384] },
  L: { layers: [4, 4, 12, 6], embed_dims: [64, 128, 384, 512] },
};

/** Validates (unknown keys are errors) and fills defaults. */
export function resolveTinyViMConfig(input: TinyViMConfigInput | Record<string, unknown>): TinyViMConfig {
  const cfg = validate(tinyVimConfigSchema, input);
  const mlp = cfg.mlp_ratios ?? 4;
  const resolved: TinyViMConfig = {
    layers: [...cfg.layers],
    embed_dims: [...cfg.embed_dims],
    mlp_ratios: typeof mlp === 'number' ? [mlp, mlp, mlp, mlp] : [...mlp],
    downsamples: cfg.downsamples ? [...cfg.downsamples] : [true, true, true, true],
    ssm_num: cfg.ssm_num ?? 1,
    fork_feat: cfg.fork_feat ?? false,
    num_classes: cfg.num_classes ?? 1000,
    distillation: cfg.distillation ?? true,
    d_state: cfg.d_state ?? 8,
  };
  if (resolved.ssm_num > Math.min(...resolved.layers)) {
    throw new ConfigError(`ssm_num (${resolved.ssm_num}) must not exceed the smallest stage depth (${Math.min(...resolved.layers)})`, 'ssm_num');
  }
  return resolved;
}

/** The official factory of a named variant (TinyViM_S/B/L) with overrides (fork_feat, num_classes, ...). */
export function variantConfig(variant: TinyViMVariant, overrides: Partial<TinyViMConfigInput> = {}): TinyViMConfig {
  const base = TINYVIM_VARIANTS[variant];
  if (!base) throw new ConfigError(`unknown TinyViM variant '${String(variant)}'; expected one of S, B, L`, 'variant');
  return resolveTinyViMConfig({ ...base, ...overrides });
}

/** Block kinds of one stage: the last `ssm_num` blocks are TViM blocks; stage 3 also has one in the middle. */
export function stageBlockKinds(cfg: TinyViMConfig, stage: number): ('local' | 'tvim')[] {
  const depth = cfg.layers[stage];
  return Array.from({ length: depth }, (_, j) => {
    if (depth - j <= cfg.ssm_num) return 'tvim';
    if (stage === 2 && j === Math.floor(depth / 2)) return 'tvim';
    return 'local';
  });
}

/** Whether an Embedding (stride-2 Conv+BN) follows stage i (i < 3), as the official constructor decides. */
export function hasEmbedding(cfg: TinyViMConfig, i: number): boolean {
  return i < 3 && (cfg.downsamples[i] || cfg.embed_dims[i] !== cfg.embed_dims[i + 1]);
}
