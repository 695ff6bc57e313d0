// A very small Mask R-CNN and an in-memory dataset of bright rectangles/discs, for fast model tests.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Conv2d } from '../../nn/layers';
import { Rng } from '../../core/rng';
import type { DetBatch, ImgMeta } from '../../datasets/types';
import { BACKBONES } from '../../core/registry';
import { s } from '../../core/config_schema';
import type { MaskRCNNConfig } from '../../models/mask_rcnn_builder';

/** Four stride-doubling convs: features at strides 4, 8, 16, 32 with the given widths (a FeatureBackbone). */
export class TinyConvBackbone extends Module {
  readonly convs: Conv2d[];
  readonly strides = [4, 8, 16, 32];
  constructor(readonly outChannels: number[]) {
    super();
    this.convs = outChannels.map((c, i) =>
      this.child(`conv${i}`, new Conv2d(i === 0 ? 3 : outChannels[i - 1], c, i === 0 ? 4 : 3, { stride: i === 0 ? 4 : 2, padding: i === 0 ? 0 : 1 })),
    );
  }
  /** Any size works: the convs pad and floor. */
  padInput(x: tf.Tensor4D): tf.Tensor4D {
    return x;
  }
  forwardFeatures(x: tf.Tensor4D): tf.Tensor4D[] {
    const outs: tf.Tensor4D[] = [];
    let h = x;
    for (const c of this.convs) {
      h = tf.relu(c.forward(h));
      outs.push(h);
    }
    return outs;
  }
}

export function registerTinyBackbone(): void {
  if (BACKBONES.has('TinyConvBackbone')) return;
  BACKBONES.register('TinyConvBackbone', {
    schema: s.object({ out_channels: s.array(s.int({ min: 1 }), { length: 4 }) }),
    build: (cfg) => new TinyConvBackbone(cfg.out_channels),
  });
}

/** A full MaskRCNN config with tiny widths (the recipe's structure, scaled down). */
export function tinyMaskRcnnConfig(numClasses = 2, backboneChannels = [8, 16, 16, 16], neckIn = backboneChannels): MaskRCNNConfig {
  const C = 16;
  return {
    type: 'MaskRCNN',
    backbone: { type: 'TinyConvBackbone', out_channels: backboneChannels },
    neck: { type: 'FPN', in_channels: neckIn, out_channels: C, num_outs: 5 },
    rpn_head: {
      type: 'RPNHead',
      in_channels: C,
      feat_channels: C,
      anchor_generator: { type: 'AnchorGenerator', scales: [8], ratios: [0.5, 1.0, 2.0], strides: [4, 8, 16, 32, 64] },
      bbox_coder: { type: 'DeltaXYWHBBoxCoder', target_means: [0, 0, 0, 0], target_stds: [1, 1, 1, 1] },
      loss_cls: { type: 'CrossEntropyLoss', use_sigmoid: true, loss_weight: 1 },
      loss_bbox: { type: 'L1Loss', loss_weight: 1 },
    },
    roi_head: {
      type: 'StandardRoIHead',
      bbox_roi_extractor: { type: 'SingleRoIExtractor', roi_layer: { type: 'RoIAlign', output_size: 7, sampling_ratio: 0 }, out_channels: C, featmap_strides: [4, 8, 16, 32] },
      bbox_head: {
        type: 'Shared2FCBBoxHead',
        in_channels: C,
        fc_out_channels: 32,
        roi_feat_size: 7,
        num_classes: numClasses,
        bbox_coder: { type: 'DeltaXYWHBBoxCoder', target_means: [0, 0, 0, 0], target_stds: [0.1, 0.1, 0.2, 0.2] },
        reg_class_agnostic: false,
        loss_cls: { type: 'CrossEntropyLoss', use_sigmoid: false, loss_weight: 1 },
        loss_bbox: { type: 'L1Loss', loss_weight: 1 },
      },
      mask_roi_extractor: { type: 'SingleRoIExtractor', roi_layer: { type: 'RoIAlign', output_size: 14, sampling_ratio: 0 }, out_channels: C, featmap_strides: [4, 8, 16, 32] },
      mask_head: { type: 'FCNMaskHead', num_convs: 1, in_channels: C, conv_out_channels: C, num_classes: numClasses, loss_mask: { type: 'CrossEntropyLoss', use_mask: true, loss_weight: 1 } },
    },
    train_cfg: {
      rpn: {
        assigner: { type: 'MaxIoUAssigner', pos_iou_thr: 0.7, neg_iou_thr: 0.3, min_pos_iou: 0.3, match_low_quality: true, ignore_iof_thr: -1 },
        sampler: { type: 'RandomSampler', num: 64, pos_fraction: 0.5, neg_pos_ub: -1, add_gt_as_proposals: false },
        allowed_border: -1,
        pos_weight: -1,
      },
      rpn_proposal: { nms_pre: 200, max_per_img: 50, nms: { type: 'nms', iou_threshold: 0.7 }, min_bbox_size: 0 },
      rcnn: {
        assigner: { type: 'MaxIoUAssigner', pos_iou_thr: 0.5, neg_iou_thr: 0.5, min_pos_iou: 0.5, match_low_quality: true, ignore_iof_thr: -1 },
        sampler: { type: 'RandomSampler', num: 32, pos_fraction: 0.25, neg_pos_ub: -1, add_gt_as_proposals: true },
        mask_size: 28,
        pos_weight: -1,
      },
    },
    test_cfg: {
      rpn: { nms_pre: 200, max_per_img: 50, nms: { type: 'nms', iou_threshold: 0.7 }, min_bbox_size: 0 },
      rcnn: { score_thr: 0.05, nms: { type: 'nms', iou_threshold: 0.5 }, max_per_img: 100, mask_thr_binary: 0.5 },
    },
  };
}

export interface TinyObject {
  box: [number, number, number, number];
  label: number;
}

/**
 * A batch of `n` size x size images: label 0 = bright rectangle, label 1 = bright disc, on noise.
 * Masks are the shapes' pixels (at pad size = image size).
 */
export function tinyBatch(seed: number, n = 2, size = 64, objects: TinyObject[][] | null = null): DetBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(n * size * size * 3);
  const metas: ImgMeta[] = [];
  const gtB: Float32Array[] = [];
  const gtL: Int32Array[] = [];
  const gtM: Uint8Array[][] = [];
  for (let i = 0; i < n; i++) {
    const objs: TinyObject[] =
      objects?.[i] ??
      Array.from({ length: 1 + rng.int(0, 2) }, () => {
        const w = rng.int(14, 30);
        const h = rng.int(14, 30);
        const x = rng.int(0, size - w);
        const y = rng.int(0, size - h);
        return { box: [x, y, x + w, y + h] as [number, number, number, number], label: rng.int(0, 2) };
      });
    for (let p = 0; p < size * size * 3; p++) data[i * size * size * 3 + p] = (rng.next() - 0.5) * 0.2;
    const masks: Uint8Array[] = [];
    for (const o of objs) {
      const m = new Uint8Array(size * size);
      const [x1, y1, x2, y2] = o.box;
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      for (let y = Math.max(0, Math.floor(y1)); y < Math.min(size, Math.ceil(y2)); y++) {
        for (let x = Math.max(0, Math.floor(x1)); x < Math.min(size, Math.ceil(x2)); x++) {
          const inside = o.label === 0 || ((x + 0.5 - cx) / ((x2 - x1) / 2)) ** 2 + ((y + 0.5 - cy) / ((y2 - y1) / 2)) ** 2 <= 1;
          if (!inside) continue;
          m[y * size + x] = 1;
          const p = (i * size * size + y * size + x) * 3;
          data[p] = o.label === 0 ? 2 : -1;
          data[p + 1] = 1.5;
          data[p + 2] = o.label === 0 ? -1 : 2;
        }
      }
      masks.push(m);
    }
    metas.push({
      filename: `tiny_${seed}_${i}.png`,
      ori_filename: `tiny_${seed}_${i}.png`,
      ori_shape: [size, size, 3],
      img_shape: [size, size, 3],
      pad_shape: [size, size, 3],
      scale_factor: [1, 1, 1, 1],
      flip: false,
      flip_direction: null,
    });
    gtB.push(Float32Array.from(objs.flatMap((o) => o.box)));
    gtL.push(Int32Array.from(objs.map((o) => o.label)));
    gtM.push(masks);
  }
  return { kind: 'det', data, shape: [n, size, size, 3], metas, gt_bboxes: gtB, gt_labels: gtL, gt_masks: gtM };
}
