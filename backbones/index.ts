// Backbone registrations: importing this module registers the TinyViM types in BACKBONES.
//   'TinyViM'                       : the official constructor's fields (layers, embed_dims, ...)
//   'TinyViM_S' / '_B' / '_L'       : the official factories (layers/embed_dims preset)
// Every type also accepts mm's `init_cfg: {type: 'Pretrained', checkpoint, prefix?, checkpoint_key?}`
// (checkpoint_key: which entry of a training checkpoint holds the weights, e.g. 'model_ema'); backbones never
// read files, so the built model only records it (`pretrained`) and the runner loads it with
// core/checkpoint_io's loadBackboneWeights (non-strict, 'backbone.' prefix auto-detected).
import { s } from '../core/config_schema';
import { BACKBONES } from '../core/registry';
import { CHECKPOINT_KEYS, type CheckpointKey } from '../core/checkpoint_io';
import type { Module } from '../nn/module';
import { TinyViM, TINYVIM_VARIANTS, type TinyViMVariant, tinyVimConfigSchema } from './tinyvim';

export * from './tinyvim';

const initCfgSchema = s
  .object({
    type: s.literal('Pretrained'),
    checkpoint: s.string(),
    prefix: s.string().optional(),
    checkpoint_key: s.enum(CHECKPOINT_KEYS).optional(),
  })
  .optional()
  .describedAs("mm init_cfg: {type: 'Pretrained', checkpoint: <.pth|.safetensors>, prefix?, checkpoint_key?: 'auto'|'state_dict'|'model'|'model_ema'}");

/** What a config's init_cfg asks the runner to load into a built backbone. */
export interface PretrainedSpec {
  checkpoint: string;
  prefix?: string;
  checkpoint_key?: CheckpointKey;
}

/** The init_cfg recorded on a backbone built from a config, if any. */
export function pretrainedOf(m: Module): PretrainedSpec | null {
  return (m as Module & { pretrained?: PretrainedSpec | null }).pretrained ?? null;
}

function withPretrained(model: TinyViM, init: PretrainedSpec | undefined): TinyViM {
  (model as TinyViM & { pretrained?: PretrainedSpec | null }).pretrained = init
    ? { checkpoint: init.checkpoint, prefix: init.prefix, checkpoint_key: init.checkpoint_key }
    : null;
  return model;
}

if (!BACKBONES.has('TinyViM')) {
  BACKBONES.register('TinyViM', {
    schema: s.object({ ...tinyVimConfigSchema.shape, init_cfg: initCfgSchema }),
    build: ({ type: _t, init_cfg, ...cfg }) => withPretrained(new TinyViM(cfg), init_cfg),
    doc: 'TinyViM (official constructor fields: layers, embed_dims, mlp_ratios, downsamples, ssm_num, fork_feat, num_classes, distillation)',
  });
}

const { layers: _l, embed_dims: _e, ...variantShape } = tinyVimConfigSchema.shape;
for (const v of Object.keys(TINYVIM_VARIANTS) as TinyViMVariant[]) {
  const name = `TinyViM_${v}`;
  if (BACKBONES.has(name)) continue;
  BACKBONES.register(name, {
    schema: s.object({ ...variantShape, init_cfg: initCfgSchema }),
    build: ({ type: _t, init_cfg, ...cfg }) => withPretrained(new TinyViM({ ...TINYVIM_VARIANTS[v], ...cfg }), init_cfg),
    doc: `TinyViM-${v} (layers ${TINYVIM_VARIANTS[v].layers.join('/')}, embed_dims ${TINYVIM_VARIANTS[v].embed_dims.join('/')})`,
  });
}
