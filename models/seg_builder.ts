// The `EncoderDecoder` model type (mmseg 0.30 field names): strict config schema and builder.
// Importing this module registers EncoderDecoder in MODELS, FPN in NECKS and FPNHead in HEADS (and,
// through backbones/, the TinyViM backbone types).
import { type Infer, s } from '../core/config_schema';
import { ConfigError } from '../core/errors';
import { BACKBONES, HEADS, MODELS, NECKS } from '../core/registry';
import { FPN, checkFpnInChannels } from '../necks/fpn';
import { FPNHead } from '../heads/seg/fpn_head';
import '../backbones';
import { asFeatureBackbone } from '../backbones/feature_backbone';
import { EncoderDecoder } from './encoder_decoder';

const normCfg = s.object({ type: s.enum(['BN', 'SyncBN'] as const), requires_grad: s.boolean().optional(), eps: s.number({ min: 0 }).optional(), momentum: s.number({ min: 0 }).optional() });

export const fpnNeckSchema = s.object({
  in_channels: s.array(s.int({ min: 1 }), { minLength: 1 }),
  out_channels: s.int({ min: 1 }),
  num_outs: s.int({ min: 1 }),
  start_level: s.int({ min: 0 }).optional(),
  end_level: s.int().optional(),
  add_extra_convs: s.literal(false).optional(),
});

export const fpnHeadSchema = s.object({
  in_channels: s.array(s.int({ min: 1 }), { minLength: 1 }),
  in_index: s.array(s.int({ min: 0 }), { minLength: 1 }).optional(),
  feature_strides: s.array(s.int({ min: 1 }), { minLength: 1 }),
  channels: s.int({ min: 1 }),
  dropout_ratio: s.number({ min: 0, max: 1 }).optional(),
  num_classes: s.int({ min: 1 }),
  norm_cfg: normCfg.nullable().optional(),
  align_corners: s.boolean().optional(),
  ignore_index: s.int({ min: 0 }).optional(),
  loss_decode: s
    .object({
      type: s.literal('CrossEntropyLoss'),
      use_sigmoid: s.literal(false).optional(),
      loss_weight: s.number({ min: 0 }).optional(),
      avg_non_ignore: s.boolean().optional(),
    })
    .optional(),
});

export const encoderDecoderSchema = s.object({
  pretrained: s.string().nullable().optional(),
  backbone: BACKBONES.schema(),
  neck: NECKS.schema(),
  decode_head: HEADS.schema(),
  train_cfg: s.object({}).optional(),
  test_cfg: s
    .object({
      mode: s.enum(['whole', 'slide'] as const),
      crop_size: s.tuple(s.int({ min: 1 }), s.int({ min: 1 })).optional(),
      stride: s.tuple(s.int({ min: 1 }), s.int({ min: 1 })).optional(),
      flip: s.boolean().optional(),
      img_ratios: s.array(s.number({ min: 0.0625, max: 16 })).optional(),
    })
    .optional(),
});

export type FPNNeckConfig = Infer<typeof fpnNeckSchema> & { type: 'FPN' };
export type FPNHeadConfig = Infer<typeof fpnHeadSchema> & { type: 'FPNHead' };
export type EncoderDecoderConfig = Infer<typeof encoderDecoderSchema> & { type: 'EncoderDecoder' };

const withoutType = <T extends { type?: unknown }>(o: T): Omit<T, 'type'> => {
  const { type: _t, ...rest } = o;
  return rest;
};

/** The decode head of a validated `FPNHead` config entry (its fields pass straight through). */
export function buildFPNHead(cfg: Omit<FPNHeadConfig, 'type'>): FPNHead {
  return new FPNHead(cfg);
}

export function buildEncoderDecoder(cfg: EncoderDecoderConfig): EncoderDecoder {
  if (cfg.pretrained) throw new ConfigError('model.pretrained is not supported here; load backbone weights with load_from or the backbone import tool', 'model.pretrained');
  const backbone = asFeatureBackbone(BACKBONES.build(cfg.backbone, undefined, 'model.backbone'));
  try {
    if (cfg.neck.type !== 'FPN') throw new ConfigError(`model.neck.type '${cfg.neck.type}' is not supported by EncoderDecoder (FPN)`, 'model.neck.type');
    const neckCfg = cfg.neck as unknown as FPNNeckConfig;
    checkFpnInChannels(backbone.outChannels, neckCfg.in_channels, 'model.neck.in_channels');
    if (cfg.decode_head.type !== 'FPNHead') throw new ConfigError(`model.decode_head.type '${cfg.decode_head.type}' is not supported (FPNHead)`, 'model.decode_head.type');
    const headCfg = cfg.decode_head as unknown as FPNHeadConfig;
    const neck = new FPN(withoutType(neckCfg));
    const head = buildFPNHead(withoutType(headCfg));
    return new EncoderDecoder({ backbone, neck, decode_head: head, ignore_index: headCfg.ignore_index, loss_decode: headCfg.loss_decode, test_cfg: cfg.test_cfg });
  } catch (e) {
    backbone.dispose();
    throw e;
  }
}

// ---- registration ----

if (!NECKS.has('FPN')) {
  NECKS.register('FPN', { schema: fpnNeckSchema, build: (cfg) => new FPN(withoutType(cfg)), doc: 'Feature Pyramid Network (mmdet/mmseg FPN, max-pool extra levels)' });
}
if (!HEADS.has('FPNHead')) {
  HEADS.register('FPNHead', { schema: fpnHeadSchema, build: (cfg) => buildFPNHead(withoutType(cfg as FPNHeadConfig)), doc: 'Semantic FPN decode head (mmseg FPNHead)' });
}

if (!MODELS.has('EncoderDecoder')) {
  MODELS.register('EncoderDecoder', {
    schema: encoderDecoderSchema,
    build: (cfg) => buildEncoderDecoder(cfg as EncoderDecoderConfig) as never,
    doc: 'Semantic segmentor (mmseg EncoderDecoder): backbone -> FPN -> FPNHead',
  });
}
