// mmdet's SingleRoIExtractor: each RoI is pooled (RoIAlign, aligned, adaptive sampling) from one FPN
// level chosen by its scale (sqrt(area) against finest_scale 56: <112 -> P2, <224 -> P3, ...).
import * as tf from '@tensorflow/tfjs';
import { roiAlign } from '../../ops/roi_align';
import { mapRoiLevels } from './level_mapping';

/** mmdet's `SingleRoIExtractor` config fields (roi_head.{bbox,mask}_roi_extractor without `type`). */
export interface RoIExtractorOptions {
  /** mmcv RoIAlign: output_size (square bins), sampling_ratio (0: adaptive), aligned (default true: half-pixel offset). */
  roi_layer: { type?: 'RoIAlign'; output_size: number; sampling_ratio?: number; aligned?: boolean };
  /** Channels of the pooled features (the FPN's out_channels); recorded, the features decide. */
  out_channels?: number;
  /** Stride of each FPN level used, finest first (in input pixels). */
  featmap_strides: number[];
  /** RoIs with sqrt(area) < 2 * finest_scale go to the finest level (default 56). */
  finest_scale?: number;
}

export class SingleRoIExtractor {
  constructor(readonly opts: RoIExtractorOptions) {}

  get numInputs(): number {
    return this.opts.featmap_strides.length;
  }

  /** Side of the pooled features (roi_layer.output_size). */
  get outSize(): number {
    return this.opts.roi_layer.output_size;
  }

  /**
   * `feats`: FPN levels (NHWC), finest first (only the first `featmap_strides.length` are used).
   * `rois`: [K*5] (batch index, x1, y1, x2, y2). Returns [K, out, out, C] in the order of `rois`.
   */
  forward(feats: tf.Tensor4D[], rois: Float32Array): tf.Tensor4D {
    const k = rois.length / 5;
    const outSize = this.outSize;
    const featmapStrides = this.opts.featmap_strides;
    const { sampling_ratio: samplingRatio = 0, aligned = true } = this.opts.roi_layer;
    const c = feats[0].shape[3];
    if (k === 0) {
      // No RoIs: an empty result that is still connected to the features (mmdet keeps the graph too).
      return tf.add(tf.zeros([0, outSize, outSize, c]), tf.mul(tf.sum(feats[0]), 0)) as tf.Tensor4D;
    }
    const levels = mapRoiLevels(rois, featmapStrides.length, this.opts.finest_scale ?? 56);
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    for (let l = 0; l < featmapStrides.length; l++) {
      const idx: number[] = [];
      for (let j = 0; j < k; j++) if (levels[j] === l) idx.push(j);
      if (!idx.length) continue;
      const sub = new Float32Array(idx.length * 5);
      idx.forEach((j, t) => sub.set(rois.subarray(j * 5, j * 5 + 5), t * 5));
      parts.push(roiAlign(feats[l], sub, [outSize, outSize], 1 / featmapStrides[l], samplingRatio, aligned));
      order.push(...idx);
    }
    const cat = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    // Undo the grouping by level: row `order[t]` of the result is row t of `cat`.
    const inv = new Int32Array(k);
    order.forEach((j, t) => (inv[j] = t));
    const sorted = order.every((j, t) => j === t);
    return sorted ? cat : (tf.gather(cat, tf.tensor1d(inv, 'int32')) as tf.Tensor4D);
  }
}
