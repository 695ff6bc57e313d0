// The `MaskRCNN` model type: its strict config schema (mmdet 2.x field names) and the builder that
// turns a validated config into a MaskRCNN. Importing this module registers the type in MODELS.
import * as tf from '@tensorflow/tfjs';
import { type Infer, s } from '../core/config_schema';
import { ConfigError } from '../core/errors';
import { BACKBONES, MODELS } from '../core/registry';
import { FPN, checkFpnInChannels } from '../necks/fpn';
import { RPNHead } from '../heads/rpn/rpn_head';
import { StandardRoIHead } from '../heads/roi/standard_roi_head';
import { asFeatureBackbone } from '../backbones/feature_backbone';
import { MaskRCNN } from './mask_rcnn';

const num = (min = 0) => s.number({ min });
const box4 = () => s.tuple(s.number(), s.number(), s.number(), s.number());
const loss = <T extends string>(type: T) =>
  s.object({ type: s.literal(type), use_sigmoid: s.boolean().optional(), use_mask: s.boolean().optional(), loss_weight: num().optional(), reduction: s.literal('mean').optional() });
const coder = s.object({ type: s.literal('DeltaXYWHBBoxCoder'), target_means: box4(), target_stds: box4(), clip_border: s.boolean().optional() });
const nmsCfg = s.object({ type: s.literal('nms').optional(), iou_threshold: s.number({ min: 0, max: 1 }) });
const roiExtractor = s.object({
  type: s.literal('SingleRoIExtractor'),
  roi_layer: s.object({ type: s.literal('RoIAlign'), output_size: s.int({ min: 1 }), sampling_ratio: s.int({ min: 0 }), aligned: s.boolean().optional() }),
  out_channels: s.int({ min: 1 }),
  featmap_strides: s.array(s.int({ min: 1 }), { minLength: 1 }),
  finest_scale: num(1).optional(),
});
const assigner = s.object({
  type: s.literal('MaxIoUAssigner'),
  pos_iou_thr: s.number({ min: 0, max: 1 }),
  neg_iou_thr: s.number({ min: 0, max: 1 }),
  min_pos_iou: s.number({ min: 0, max: 1 }),
  match_low_quality: s.boolean().optional(),
  ignore_iof_thr: s.number().optional(),
  gt_max_assign_all: s.boolean().optional(),
});
const sampler = s.object({
  type: s.literal('RandomSampler'),
  num: s.int({ min: 1 }),
  pos_fraction: s.number({ min: 0, max: 1 }),
  neg_pos_ub: s.number().optional(),
  add_gt_as_proposals: s.boolean().optional(),
});
const proposalCfg = s.object({ nms_pre: s.int({ min: 0 }), max_per_img: s.int({ min: 1 }), nms: nmsCfg, min_bbox_size: num().optional() });

export const maskRcnnSchema = s.object({
  backbone: BACKBONES.schema(),
  neck: s.object({
    type: s.literal('FPN'),
    in_channels: s.array(s.int({ min: 1 }), { minLength: 1 }),
    out_channels: s.int({ min: 1 }),
    num_outs: s.int({ min: 1 }),
    start_level: s.int({ min: 0 }).optional(),
    end_level: s.int().optional(),
    add_extra_convs: s.literal(false).optional(),
  }),
  rpn_head: s.object({
    type: s.literal('RPNHead'),
    in_channels: s.int({ min: 1 }),
    feat_channels: s.int({ min: 1 }),
    anchor_generator: s.object({ type: s.literal('AnchorGenerator'), scales: s.array(num(), { minLength: 1 }), ratios: s.array(num(), { minLength: 1 }), strides: s.array(s.int({ min: 1 }), { minLength: 1 }) }),
    bbox_coder: coder,
    loss_cls: loss('CrossEntropyLoss'),
    loss_bbox: loss('L1Loss'),
  }),
  roi_head: s.object({
    type: s.literal('StandardRoIHead'),
    bbox_roi_extractor: roiExtractor,
    bbox_head: s.object({
      type: s.literal('Shared2FCBBoxHead'),
      in_channels: s.int({ min: 1 }),
      fc_out_channels: s.int({ min: 1 }),
      roi_feat_size: s.int({ min: 1 }),
      num_classes: s.int({ min: 1 }),
      bbox_coder: coder,
      reg_class_agnostic: s.boolean().optional(),
      loss_cls: loss('CrossEntropyLoss'),
      loss_bbox: loss('L1Loss'),
    }),
    mask_roi_extractor: roiExtractor.optional(),
    mask_head: s
      .object({
        type: s.literal('FCNMaskHead'),
        num_convs: s.int({ min: 0 }),
        in_channels: s.int({ min: 1 }),
        conv_out_channels: s.int({ min: 1 }),
        num_classes: s.int({ min: 1 }),
        loss_mask: loss('CrossEntropyLoss'),
      })
      .optional(),
  }),
  train_cfg: s.object({
    rpn: s.object({ assigner, sampler, allowed_border: s.number().optional(), pos_weight: s.number().optional(), debug: s.boolean().optional() }),
    rpn_proposal: proposalCfg,
    rcnn: s.object({ assigner, sampler, mask_size: s.int({ min: 1 }), pos_weight: s.number().optional(), debug: s.boolean().optional() }),
  }),
  test_cfg: s.object({
    rpn: proposalCfg,
    rcnn: s.object({ score_thr: num(), nms: nmsCfg, max_per_img: s.int({ min: 1 }), mask_thr_binary: s.number({ min: 0, max: 1 }) }),
  }),
  /** Seed of the anchor/RoI sampling stream (ours; mmdet uses the global torch seed). */
  sampling_seed: s.int({ min: 0 }).optional(),
});

export type MaskRCNNConfig = Infer<typeof maskRcnnSchema> & { type?: string };

const stripType = <T extends { type?: unknown }>(o: T) => {
  const { type: _t, ...rest } = o;
  return rest;
};

export function buildMaskRCNN(cfg: MaskRCNNConfig): MaskRCNN {
  const backbone = asFeatureBackbone(BACKBONES.build(cfg.backbone, undefined, 'model.backbone'));
  try {
    checkFpnInChannels(backbone.outChannels, cfg.neck.in_channels, 'model.neck.in_channels');
  } catch (e) {
    backbone.dispose();
    throw e;
  }
  const neck = new FPN(stripType(cfg.neck));
  const r = cfg.rpn_head;
  if (r.in_channels !== cfg.neck.out_channels) {
    throw new ConfigError(`model.rpn_head.in_channels is ${r.in_channels} but the neck outputs ${cfg.neck.out_channels} channels`, 'model.rpn_head.in_channels');
  }
  if (r.anchor_generator.strides.length !== cfg.neck.num_outs) {
    throw new ConfigError(`model.rpn_head.anchor_generator.strides has ${r.anchor_generator.strides.length} levels but the neck has num_outs ${cfg.neck.num_outs}`, 'model.rpn_head.anchor_generator.strides');
  }
  const rpnHead = new RPNHead(stripType(r));
  const h = cfg.roi_head;
  const bh = h.bbox_head;
  if (h.bbox_roi_extractor.roi_layer.output_size !== bh.roi_feat_size) {
    throw new ConfigError(`model.roi_head.bbox_head.roi_feat_size ${bh.roi_feat_size} differs from bbox_roi_extractor.roi_layer.output_size ${h.bbox_roi_extractor.roi_layer.output_size}`, 'model.roi_head.bbox_head.roi_feat_size');
  }
  const mh = h.mask_head;
  if (!!mh !== !!h.mask_roi_extractor) throw new ConfigError('model.roi_head: mask_head and mask_roi_extractor must be given together', 'model.roi_head.mask_head');
  if (mh && mh.num_classes !== bh.num_classes) {
    throw new ConfigError(`model.roi_head.mask_head.num_classes ${mh.num_classes} differs from bbox_head.num_classes ${bh.num_classes}`, 'model.roi_head.mask_head.num_classes');
  }
  const roiHead = new StandardRoIHead(stripType(h));
  return new MaskRCNN({
    backbone,
    neck,
    rpn_head: rpnHead,
    roi_head: roiHead,
    train_cfg: cfg.train_cfg,
    test_cfg: cfg.test_cfg,
    sampling_seed: cfg.sampling_seed,
  });
}

if (!MODELS.has('MaskRCNN')) {
  MODELS.register('MaskRCNN', {
    schema: maskRcnnSchema,
    build: (cfg) => buildMaskRCNN(cfg as MaskRCNNConfig),
    doc: 'Mask R-CNN with FPN (mmdet 2.x): backbone -> FPN -> RPN -> StandardRoIHead',
  });
}
