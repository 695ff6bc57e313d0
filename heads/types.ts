// Plain config and data shapes shared by the detection heads (mmdet 2.x field names where they are config).

/** The part of an mmdet loss config (`{type, loss_weight, use_sigmoid, ...}`) the heads read. */
export interface LossWeightCfg {
  type?: string;
  loss_weight?: number;
}

/** MaxIoUAssigner settings (train_cfg.{rpn,rcnn}.assigner without `type`). */
export interface AssignerCfg {
  pos_iou_thr: number;
  neg_iou_thr: number;
  min_pos_iou: number;
  match_low_quality?: boolean;
  ignore_iof_thr?: number;
  gt_max_assign_all?: boolean;
}

/** RandomSampler settings (train_cfg.{rpn,rcnn}.sampler without `type`). */
export interface SamplerCfg {
  num: number;
  pos_fraction: number;
  neg_pos_ub?: number;
  add_gt_as_proposals?: boolean;
}

/** rpn_proposal / test_cfg.rpn. */
export interface ProposalCfg {
  nms_pre: number;
  max_per_img: number;
  nms: { type?: 'nms'; iou_threshold: number };
  min_bbox_size?: number;
}

/** test_cfg.rcnn. */
export interface RcnnTestCfg {
  score_thr: number;
  nms: { type?: 'nms'; iou_threshold: number };
  max_per_img: number;
  mask_thr_binary: number;
}

/** What the heads need to know about one image of a batch (defined with the sample structures). */
export type { ImageInfo } from '../structures/det_sample';
