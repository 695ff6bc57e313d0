// mmdet 2.x StandardRoIHead with a bbox branch (Shared2FC) and a mask branch (FCN).
// Training: per image, proposals are assigned to the ground truth (MaxIoU 0.5, GT added as proposals),
// 512 RoIs sampled at 25% positives; the bbox branch learns softmax classification over all sampled
// RoIs and class-specific deltas on the positives (both averaged over all sampled RoIs), the mask
// branch learns per-pixel BCE on the GT class's channel of the positives.
// Inference: softmax scores, class-specific decoding clipped to the image, score_thr, per-class NMS,
// max_per_img, then masks for the kept boxes pasted into the original image and thresholded.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { DeltaXYWHBBoxCoder } from '../../task_modules/delta_xywh_coder';
import { MaxIoUAssigner } from '../../task_modules/max_iou_assigner';
import { RandomSampler } from '../../task_modules/random_sampler';
import { maskTargets } from '../../task_modules/mask_target';
import { batchedNms } from '../../ops/nms';
import { pasteMask } from '../../ops/paste_mask';
import { accuracy, bceWithLogits, l1Loss, softmaxCrossEntropy } from '../losses';
import type { DetectionResult } from '../../structures/results';
import { Boxes } from '../../structures/boxes';
import type { DetSample, ImageInfo } from '../../structures/det_sample';
import type { AssignerCfg, RcnnTestCfg, SamplerCfg } from '../types';
import { type RoIExtractorOptions, SingleRoIExtractor } from './single_roi_extractor';
import { type BBoxHeadOptions, Shared2FCBBoxHead } from './shared2fc_bbox_head';
import { FCNMaskHead, type MaskHeadOptions } from './fcn_mask_head';
import { concatF32 } from '../typed_arrays';

export interface RcnnTrainCfg {
  assigner: AssignerCfg;
  sampler: SamplerCfg;
  mask_size: number;
  pos_weight?: number;
}

/**
 * mmdet 2.x `StandardRoIHead` config fields (model.roi_head without `type`): the head builds its
 * parts from them, as mmdet does, so a validated config entry passes straight through. The mask
 * branch is built when both mask entries are given.
 */
export interface StandardRoIHeadOptions {
  bbox_roi_extractor: RoIExtractorOptions & { type?: 'SingleRoIExtractor' };
  bbox_head: BBoxHeadOptions & { type?: 'Shared2FCBBoxHead' };
  mask_roi_extractor?: (RoIExtractorOptions & { type?: 'SingleRoIExtractor' }) | null;
  mask_head?: (MaskHeadOptions & { type?: 'FCNMaskHead' }) | null;
}

export interface RoiLosses {
  loss_cls: tf.Scalar;
  loss_bbox: tf.Scalar;
  loss_mask?: tf.Scalar;
  acc: tf.Scalar;
}

export class StandardRoIHead extends Module {
  readonly bboxRoiExtractor: SingleRoIExtractor;
  readonly bboxHead: Shared2FCBBoxHead;
  readonly maskRoiExtractor: SingleRoIExtractor | null;
  readonly maskHead: FCNMaskHead | null;
  readonly coder: DeltaXYWHBBoxCoder;
  readonly numClasses: number;

  /** Throws a RangeError when only one of mask_roi_extractor / mask_head is given. */
  constructor(readonly opts: StandardRoIHeadOptions) {
    super();
    if (!opts.mask_head !== !opts.mask_roi_extractor) throw new RangeError('StandardRoIHead: mask_head and mask_roi_extractor must be given together');
    this.bboxRoiExtractor = new SingleRoIExtractor(opts.bbox_roi_extractor);
    this.bboxHead = this.child('bbox_head', new Shared2FCBBoxHead(opts.bbox_head));
    this.maskRoiExtractor = opts.mask_roi_extractor ? new SingleRoIExtractor(opts.mask_roi_extractor) : null;
    this.maskHead = opts.mask_head ? this.child('mask_head', new FCNMaskHead(opts.mask_head)) : null;
    this.coder = new DeltaXYWHBBoxCoder(opts.bbox_head.bbox_coder);
    this.numClasses = opts.bbox_head.num_classes;
  }

  /** bbox_head.reg_class_agnostic (default false). */
  get regClassAgnostic(): boolean {
    return this.opts.bbox_head.reg_class_agnostic ?? false;
  }

  get withMask(): boolean {
    return this.maskHead !== null && this.maskRoiExtractor !== null;
  }

  /**
   * Losses of a batch (mmdet StandardRoIHead.forward_train). `feats`: FPN levels (NHWC). `samples[i]`
   * (borrowed) holds image i's `proposals` and `gt_instances` (boxes in resized-image pixels, labels,
   * bitmaps at pad size for the mask branch) and optional `ignored_instances`. Assignment and sampling
   * run on the host copies of the boxes; the box regression targets are gathered from the GT Boxes on
   * the device. Throws when a sample lacks proposals or ground truth (or GT masks with a mask branch).
   */
  forwardTrain(feats: tf.Tensor4D[], samples: readonly DetSample[], cfg: RcnnTrainCfg, rng: () => number): RoiLosses {
    const nc = this.numClasses;
    const assigner = new MaxIoUAssigner(cfg.assigner);
    const sampler = new RandomSampler(cfg.sampler);
    const rois: number[] = [];
    const labels: number[] = [];
    const posRows: number[] = [];
    const posLabels: number[] = [];
    const posBboxes: number[] = [];
    const posRois: number[] = [];
    const maskTargetParts: Float32Array[] = [];
    // The GT boxes of each image's positives, gathered on the device (freed before returning).
    const posGt: Boxes[] = [];
    try {
      samples.forEach((sample, i) => {
        const gt = sample.gt_instances;
        const proposals = sample.proposals;
        if (!gt?.labels || !proposals) throw new Error(`StandardRoIHead.forwardTrain: sample ${i} needs gt_instances (with labels) and proposals`);
        const gtBboxes = gt.bboxes.arraySync();
        const proposalBboxes = proposals.bboxes.arraySync();
        const assign = assigner.assign(proposalBboxes, gtBboxes, sample.ignored_instances?.bboxes.arraySync(), gt.labels);
        const res = sampler.sample(assign, proposalBboxes, gtBboxes, gt.labels, rng);
        const np = res.posInds.length;
        for (let k = 0; k < np; k++) {
          const b = res.posBboxes.subarray(k * 4, k * 4 + 4);
          posRows.push(rois.length / 5);
          rois.push(i, b[0], b[1], b[2], b[3]);
          posRois.push(i, b[0], b[1], b[2], b[3]);
          labels.push(res.posGtLabels[k]);
          posLabels.push(res.posGtLabels[k]);
          posBboxes.push(...b);
        }
        if (np > 0) posGt.push(gt.bboxes.gather(res.posAssignedGtInds));
        for (let k = 0; k < res.negInds.length; k++) {
          const b = res.negBboxes.subarray(k * 4, k * 4 + 4);
          rois.push(i, b[0], b[1], b[2], b[3]);
          labels.push(nc);
        }
        if (this.withMask && np > 0) {
          const m = gt.masks;
          if (!m) throw new Error('StandardRoIHead: the mask branch needs gt_masks for every image');
          maskTargetParts.push(maskTargets(res.posBboxes, res.posAssignedGtInds, m.masks, m.height, m.width, cfg.mask_size));
        }
      });
      return this.trainLosses(feats, { rois, labels, posRows, posLabels, posBboxes, posRois, maskTargetParts, posGt }, cfg);
    } finally {
      for (const g of posGt) g.dispose();
    }
  }

  /** The losses of the sampled RoIs (host bookkeeping from forwardTrain, GT targets as device Boxes). */
  private trainLosses(
    feats: tf.Tensor4D[],
    t: { rois: number[]; labels: number[]; posRows: number[]; posLabels: number[]; posBboxes: number[]; posRois: number[]; maskTargetParts: Float32Array[]; posGt: Boxes[] },
    cfg: RcnnTrainCfg,
  ): RoiLosses {
    const nc = this.numClasses;
    const { rois, labels, posRows, posLabels, posBboxes, posRois, maskTargetParts } = t;
    const k = labels.length;
    const roiArr = Float32Array.from(rois);
    const lw = { cls: this.opts.bbox_head.loss_cls?.loss_weight, bbox: this.opts.bbox_head.loss_bbox?.loss_weight, mask: this.opts.mask_head?.loss_mask?.loss_weight };
    const { cls, reg } = this.bboxHead.forward(this.bboxRoiExtractor.forward(feats, roiArr));
    const labelArr = Int32Array.from(labels);
    // mmdet BBoxHead.loss: CE averaged over RoIs with a positive label weight (all sampled ones).
    const lossCls = tf.mul(softmaxCrossEntropy(cls, labelArr, new Float32Array(k).fill(1), k), lw.cls ?? 1) as tf.Scalar;
    const acc = accuracy(cls, labelArr);
    let lossBbox: tf.Scalar;
    const np = posRows.length;
    if (np === 0) {
      lossBbox = tf.mul(tf.sum(reg), 0) as tf.Scalar;
    } else {
      const agnostic = this.regClassAgnostic;
      const rows = posRows.map((r, j) => (agnostic ? r : r * nc + posLabels[j]));
      const flat = tf.reshape(reg, [agnostic ? k : k * nc, 4]);
      const pred = tf.gather(flat, tf.tensor1d(rows, 'int32'));
      const gtTargets = Boxes.concat(t.posGt);
      t.posGt.push(gtTargets); // freed with the per-image parts by forwardTrain
      const target = this.coder.encode(tf.tensor2d(posBboxes, [np, 4]), gtTargets.tensor);
      // mmdet 2.x divides the positives' L1 by the number of all sampled RoIs (bbox_targets.size(0)).
      lossBbox = tf.mul(l1Loss(pred, target, k), lw.bbox ?? 1) as tf.Scalar;
    }
    const losses: RoiLosses = { loss_cls: lossCls, loss_bbox: lossBbox, acc };
    if (this.withMask) {
      const maskHead = this.maskHead as FCNMaskHead;
      const extractor = this.maskRoiExtractor as SingleRoIExtractor;
      const logits = maskHead.forward(extractor.forward(feats, Float32Array.from(posRois)));
      if (np === 0) {
        losses.loss_mask = tf.mul(tf.sum(logits), 0) as tf.Scalar;
      } else {
        const s = cfg.mask_size;
        const onehot = tf.reshape(tf.oneHot(tf.tensor1d(posLabels, 'int32'), nc), [np, 1, 1, nc]);
        const picked = tf.sum(tf.mul(logits, onehot), 3);
        const target = tf.tensor3d(concatF32(maskTargetParts), [np, s, s]);
        losses.loss_mask = tf.mul(tf.mean(bceWithLogits(picked, target)), lw.mask ?? 1) as tf.Scalar;
      }
    }
    return losses;
  }

  /**
   * Detections per image in original-image coordinates (mmdet simple_test with rescale=True).
   * Asynchronous, two reads per batch: the softmax scores and per-class decoded boxes of all RoIs
   * ([K, (nc+1) + reps*4] packed, one `await data()`), then score_thr + per-class NMS on the CPU; the
   * mask probabilities of all kept boxes ([T, M, M], one `await data()`), pasted on the CPU.
   * `samples[i]` (borrowed) gives image i's `proposals` (boxes in resized-image pixels) and geometry.
   * Returns host results (they outlive the batch); throws when a sample has no proposals.
   */
  async simpleTest(feats: tf.Tensor4D[], samples: readonly DetSample[], cfg: RcnnTestCfg): Promise<DetectionResult[]> {
    const proposals = samples.map((s, i) => {
      if (!s.proposals) throw new Error(`StandardRoIHead.simpleTest: sample ${i} has no proposals`);
      return s.proposals.bboxes;
    });
    const images = samples.map((s) => s.metainfo);
    const counts = proposals.map((p) => p.length);
    const total = counts.reduce((a, b) => a + b, 0);
    let host: Float32Array = new Float32Array(0);
    if (total > 0) {
      const packed = this.bboxStage(feats, proposals, await Promise.all(proposals.map((p) => p.array())), images);
      try {
        host = (await packed.data()) as Float32Array;
      } finally {
        packed.dispose();
      }
    }
    const results = this.selectDetections(host, counts, images, cfg);
    if (this.withMask) await this.addMasks(feats, results, images, cfg);
    return results;
  }

  /**
   * All RoIs of the batch through the bbox branch: rows [softmax scores (nc+1) | decoded boxes (reps*4)].
   * `proposals[i]`: image i's boxes on the device (decoding), `hosts[i]` their host copy (RoI pooling).
   */
  private bboxStage(feats: tf.Tensor4D[], proposals: Boxes[], hosts: Float32Array[], images: ImageInfo[]): tf.Tensor2D {
    const nc = this.numClasses;
    const reps = this.regClassAgnostic ? 1 : nc;
    const rois = concatF32(
      hosts.map((b, i) => {
        const n = b.length / 4;
        const r = new Float32Array(n * 5);
        for (let j = 0; j < n; j++) r.set([i, b[j * 4], b[j * 4 + 1], b[j * 4 + 2], b[j * 4 + 3]], j * 5);
        return r;
      }),
    );
    return tf.tidy(() => {
      const { cls, reg } = this.bboxHead.forward(this.bboxRoiExtractor.forward(feats, rois));
      const decoded: tf.Tensor[] = [];
      let start = 0;
      proposals.forEach((p, i) => {
        const n = p.length;
        if (n === 0) return;
        // Class-specific decoding clipped to this image's shape (each image has its own img_shape).
        const r = p.tensor;
        const d = tf.slice(reg, [start, 0], [n, -1]);
        const rr = tf.reshape(tf.tile(r, [1, reps]), [n * reps, 4]) as tf.Tensor2D;
        decoded.push(tf.reshape(this.coder.decode(rr, tf.reshape(d, [n * reps, 4]) as tf.Tensor2D, images[i].imgShape), [n, reps * 4]));
        start += n;
      });
      return tf.concat([tf.softmax(cls), decoded.length === 1 ? decoded[0] : tf.concat(decoded, 0)], 1) as tf.Tensor2D;
    });
  }

  /** score_thr, rescaling to the original image, per-class NMS and max_per_img on the read-back rows. */
  private selectDetections(host: Float32Array, counts: number[], images: ImageInfo[], cfg: RcnnTestCfg): DetectionResult[] {
    const nc = this.numClasses;
    const reps = this.regClassAgnostic ? 1 : nc;
    const width = nc + 1 + reps * 4;
    let start = 0;
    return counts.map((n, i) => {
      const sf = images[i].scaleFactor;
      const cand: { box: number[]; score: number; label: number }[] = [];
      for (let j = 0; j < n; j++) {
        const row = (start + j) * width;
        for (let c = 0; c < nc; c++) {
          const s = host[row + c];
          if (!(s > cfg.score_thr)) continue;
          const o = row + nc + 1 + (reps === 1 ? 0 : c) * 4;
          cand.push({ box: [host[o] / sf[0], host[o + 1] / sf[1], host[o + 2] / sf[2], host[o + 3] / sf[3]], score: s, label: c });
        }
      }
      start += n;
      const b = new Float32Array(cand.length * 4);
      const s = new Float32Array(cand.length);
      const l = new Int32Array(cand.length);
      cand.forEach((d, j) => {
        b.set(d.box, j * 4);
        s[j] = d.score;
        l[j] = d.label;
      });
      const keep = cand.length ? batchedNms(b, s, l, cfg.nms.iou_threshold, cfg.max_per_img) : new Int32Array(0);
      const m = keep.length;
      const res: DetectionResult = { bboxes: new Float32Array(m * 4), scores: new Float32Array(m), labels: new Int32Array(m) };
      keep.forEach((kk, j) => {
        res.bboxes.set(b.subarray(kk * 4, kk * 4 + 4), j * 4);
        res.scores[j] = s[kk];
        res.labels[j] = l[kk];
      });
      return res;
    });
  }

  /**
   * Mask branch on the final boxes (rescaled back into the network input): the label's channel of
   * every kept box, sigmoid, read back once ([T, M, M]) and pasted at the original size on the CPU.
   */
  private async addMasks(feats: tf.Tensor4D[], results: DetectionResult[], images: ImageInfo[], cfg: RcnnTestCfg): Promise<void> {
    const nc = this.numClasses;
    const roiList: number[] = [];
    results.forEach((r, i) => {
      const sf = images[i].scaleFactor;
      for (let j = 0; j < r.scores.length; j++) roiList.push(i, r.bboxes[j * 4] * sf[0], r.bboxes[j * 4 + 1] * sf[1], r.bboxes[j * 4 + 2] * sf[2], r.bboxes[j * 4 + 3] * sf[3]);
    });
    const total = roiList.length / 5;
    const labels = results.flatMap((r) => Array.from(r.labels));
    let probs: Float32Array = new Float32Array(0);
    let size = 0;
    if (total > 0) {
      const t = tf.tidy(() => {
        const logits = (this.maskHead as FCNMaskHead).forward((this.maskRoiExtractor as SingleRoIExtractor).forward(feats, Float32Array.from(roiList)));
        const onehot = tf.reshape(tf.oneHot(tf.tensor1d(labels, 'int32'), nc), [total, 1, 1, nc]);
        return tf.sigmoid(tf.sum(tf.mul(logits, onehot), 3));
      });
      size = t.shape[1] as number;
      try {
        probs = (await t.data()) as Float32Array;
      } finally {
        t.dispose();
      }
    }
    let o = 0;
    results.forEach((r, i) => {
      const [h, w] = images[i].oriShape;
      r.masks = [];
      for (let j = 0; j < r.scores.length; j++, o++) {
        const p = probs.subarray(o * size * size, (o + 1) * size * size);
        const b = r.bboxes;
        r.masks.push(pasteMask(p, size, [b[j * 4], b[j * 4 + 1], b[j * 4 + 2], b[j * 4 + 3]], h, w, cfg.mask_thr_binary));
      }
    });
  }
}
