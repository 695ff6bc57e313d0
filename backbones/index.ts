// Backbone registrations: importing this module registers the backbone types in BACKBONES.
//   'TinyViM'                       : the official constructor's fields (layers, embed_dims, ...)
//   'TinyViM_S' / '_B' / '_L'       : the official factories (layers/embed_dims preset)
//   'ResNet'                        : basic-block ResNet (depth 18 or 34, torchvision keys)
// Each meets the FeatureBackbone contract (feature_backbone.ts) that detectors and segmentors build
// against; adding a backbone is one folder here plus one registration below.
// Every type also accepts mm's `init_cfg: {type: 'Pretrained', checkpoint, prefix?, checkpoint_key?}`
// (checkpoint_key: which entry of a training checkpoint holds the weights, e.g. 'model_ema'); backbones never
// read files, so the built module only records it (nn/module's `pretrained`) and checkpoint/init_cfg's
// initWeights loads it after the whole model is built (non-strict, 'backbone.' prefix auto-detected).
import { s } from '../core/config_schema';
import { BACKBONES } from '../core/registry';
import { CHECKPOINT_KEYS, type Module, type PretrainedSpec } from '../nn/module';
import { ResNet } from './resnet';
import { TinyViM, TINYVIM_VARIANTS, type TinyViMVariant, tinyVimConfigSchema } from './tinyvim';

export * from './tinyvim';
export * from './resnet';
export { type FeatureBackbone, asFeatureBackbone } from './feature_backbone';

const initCfgSchema = s
  .object({
    type: s.literal('Pretrained'),
    checkpoint: s.string(),
    prefix: s.string().optional(),
    checkpoint_key: s.enum(CHECKPOINT_KEYS).optional(),
  })
  .optional()
  .describedAs("mm init_cfg: {type: 'Pretrained', checkpoint: <.pth|.safetensors>, prefix?, checkpoint_key?: 'auto'|'state_dict'|'model'|'model_ema'}");

/** The init_cfg recorded on a backbone built from a config, if any. */
export function pretrainedOf(m: Module): PretrainedSpec | null {
  return m.pretrained;
}

function withPretrained<M extends Module>(model: M, init: PretrainedSpec | undefined): M {
  model.pretrained = init ? { checkpoint: init.checkpoint, prefix: init.prefix, checkpoint_key: init.checkpoint_key } : null;
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

if (!BACKBONES.has('ResNet')) {
  BACKBONES.register('ResNet', {
    schema: s.object({ depth: s.int({ min: 1 }), base_channels: s.int({ min: 1 }).optional(), in_channels: s.int({ min: 1 }).optional(), init_cfg: initCfgSchema }),
    build: ({ type: _t, init_cfg, ...cfg }) => withPretrained(new ResNet(cfg), init_cfg),
    doc: 'ResNet with basic blocks (depth 18 or 34; torchvision state_dict keys), outputs at strides 4-32',
  });
}
