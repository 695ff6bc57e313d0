// The region proposal network of mmdet 2.x (`RPNHead`): a shared 3x3 conv + ReLU on every FPN level,
// then per-anchor objectness (sigmoid, one channel per anchor) and box deltas. Training assigns anchors
// to ground truth (MaxIoU 0.7/0.3, low-quality matches), samples 256 anchors per image and averages the
// losses over all sampled anchors of the batch; inference keeps nms_pre per level, decodes, drops
// small boxes and runs NMS across levels with the level as the batch index.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../../nn/module';
import { Conv2d } from '../../nn/layers';
import { normal } from '../../nn/init';
import { AnchorGenerator, type AnchorGeneratorConfig } from '../../task_modules/anchor_generator';
import { DeltaXYWHBBoxCoder, type DeltaXYWHBBoxCoderConfig } from '../../task_modules/delta_xywh_coder';
import { MaxIoUAssigner } from '../../task_modules/max_iou_assigner';
import { RandomSampler } from '../../task_modules/random_sampler';
import { batchedNms } from '../../ops/nms';
import { l1Loss, sigmoidCrossEntropy } from '../losses';
import type { AssignerCfg, ImageInfo, LossWeightCfg, ProposalCfg, SamplerCfg } from '../types';
import { concatF32, concatU8, gatherBboxes } from '../typed_arrays';
import { Boxes } from '../../structures/boxes';
import type { DetSample } from '../../structures/det_sample';
import { InstanceData } from '../../structures/instance_data';

/**
 * mmdet 2.x `RPNHead` config fields (model.rpn_head without `type`): a validated config entry passes
 * straight through. Nested entries may keep their `type` (the only implemented one is accepted).
 */
export interface RPNHeadOptions {
  /** Channels of every FPN level fed to the head. */
  in_channels: number;
  /** Channels of the shared 3x3 conv. */
  feat_channels: number;
  anchor_generator: AnchorGeneratorConfig & { type?: 'AnchorGenerator' };
  bbox_coder: DeltaXYWHBBoxCoderConfig & { type?: 'DeltaXYWHBBoxCoder' };
  /** Sigmoid objectness cross-entropy; only `loss_weight` (default 1) is read. */
  loss_cls?: LossWeightCfg;
  /** L1 on the deltas of positive anchors; only `loss_weight` (default 1) is read. */
  loss_bbox?: LossWeightCfg;
}

export interface RpnTrainCfg {
  assigner: AssignerCfg;
  sampler: SamplerCfg;
}

/** Raw head outputs per level: objectness logits [N,H,W,A] and deltas [N,H,W,4A]. */
export interface RpnOutputs {
  cls: tf.Tensor4D[];
  reg: tf.Tensor4D[];
}


const std001 = (s: number[]) => normal(s, 0, 0.01);
const zeros = (s: number[]) => tf.zeros(s);

export class RPNHead extends Module {
  readonly rpnConv: Conv2d;
  readonly rpnCls: Conv2d;
  readonly rpnReg: Conv2d;
  readonly anchors: AnchorGenerator;
  readonly coder: DeltaXYWHBBoxCoder;
  readonly numAnchors: number;
  private readonly anchorCache = new Map<string, Float32Array[]>();

  constructor(readonly opts: RPNHeadOptions) {
    super();
    const { in_channels: inChannels, feat_channels: featChannels } = opts;
    this.anchors = new AnchorGenerator(opts.anchor_generator);
    this.numAnchors = this.anchors.numBaseAnchors;
    // mmdet 2.x RPNHead init_cfg: Normal(layer='Conv2d', std=0.01), bias 0, for all three convs.
    this.rpnConv = this.child('rpn_conv', new Conv2d(inChannels, featChannels, 3, { padding: 1, weightInit: std001, biasInit: zeros }));
    this.rpnCls = this.child('rpn_cls', new Conv2d(featChannels, this.numAnchors, 1, { weightInit: std001, biasInit: zeros }));
    this.rpnReg = this.child('rpn_reg', new Conv2d(featChannels, this.numAnchors * 4, 1, { weightInit: std001, biasInit: zeros }));
    this.coder = new DeltaXYWHBBoxCoder(opts.bbox_coder);
  }

  forward(feats: tf.Tensor4D[]): RpnOutputs {
    const cls: tf.Tensor4D[] = [];
    const reg: tf.Tensor4D[] = [];
    for (const f of feats) {
      const x = tf.relu(this.rpnConv.forward(f));
      cls.push(this.rpnCls.forward(x));
      reg.push(this.rpnReg.forward(x));
    }
    return { cls, reg };
  }

  /** Anchors per level for these feature sizes, (h, w, anchor) order, cached by size. */
  gridAnchors(featSizes: [number, number][]): Float32Array[] {
    const key = featSizes.map((s) => s.join('x')).join(',');
    let a = this.anchorCache.get(key);
    if (!a) {
      a = this.anchors.gridAnchors(featSizes);
      this.anchorCache.set(key, a);
    }
    return a;
  }

  /**
   * Losses of a batch (mmdet RPNHead.loss). `samples[i]` (borrowed) gives image i's `gt_instances`
   * (boxes in resized-image pixels), optional `ignored_instances` (crowd boxes) and `metainfo.padShape`.
   * Assignment and sampling run on the host copies of the boxes; the regression targets are gathered
   * from the GT Boxes on the device. Returns loss_rpn_cls and loss_rpn_bbox (scalars, inside the
   * caller's tidy/variableGrads).
   */
  loss(out: RpnOutputs, samples: readonly DetSample[], cfg: RpnTrainCfg, rng: () => number): { loss_rpn_cls: tf.Scalar; loss_rpn_bbox: tf.Scalar } {
    const n = out.cls[0].shape[0];
    if (samples.length !== n) throw new RangeError(`RPNHead.loss: ${n} images in the batch but ${samples.length} samples`);
    const featSizes = out.cls.map((c) => [c.shape[1], c.shape[2]] as [number, number]);
    const levelAnchors = this.gridAnchors(featSizes);
    const total = levelAnchors.reduce((a, l) => a + l.length / 4, 0);
    const allAnchors = concatF32(levelAnchors);
    const assigner = new MaxIoUAssigner(cfg.assigner);
    const sampler = new RandomSampler(cfg.sampler);
    const labels = new Float32Array(n * total);
    const weights = new Float32Array(n * total);
    // The GT boxes of the positives, gathered on the device (freed before returning).
    const posGt: Boxes[] = [];
    try {
      const posIdx: number[] = [];
      const posAnchors: number[] = [];
      let numSamples = 0;
      for (let i = 0; i < n; i++) {
        const gt = samples[i].gt_instances;
        if (!gt) throw new RangeError(`RPNHead.loss: sample ${i} has no gt_instances`);
        const gtBboxes = gt.bboxes.arraySync();
        // mmdet (allowed_border -1): only anchors on this image's padded area take part (valid_flags).
        const valid = concatU8(this.anchors.validFlags(featSizes, samples[i].metainfo.padShape));
        const map: number[] = [];
        for (let j = 0; j < total; j++) if (valid[j]) map.push(j);
        const anchors = map.length === total ? allAnchors : gatherBboxes(allAnchors, map);
        const assign = assigner.assign(anchors, gtBboxes, samples[i].ignored_instances?.bboxes.arraySync());
        const res = sampler.sample(assign, anchors, gtBboxes, undefined, rng);
        for (const jj of res.negInds) weights[i * total + map[jj]] = 1;
        res.posInds.forEach((jj, k) => {
          const j = map[jj];
          labels[i * total + j] = 1;
          weights[i * total + j] = 1;
          posIdx.push(i * total + j);
          for (let c = 0; c < 4; c++) posAnchors.push(res.posBboxes[k * 4 + c]);
        });
        if (res.posInds.length) posGt.push(gt.bboxes.gather(res.posAssignedGtInds));
        numSamples += res.posInds.length + res.negInds.length;
      }
      // mmdet 2.x: with a sampler, both losses average over all sampled anchors of the batch.
      const avg = Math.max(numSamples, 1);
      const clsFlat = tf.concat(out.cls.map((c) => tf.reshape(c, [n, -1])), 1);
      const lossCls = tf.mul(
        sigmoidCrossEntropy(clsFlat, tf.tensor2d(labels, [n, total]), tf.tensor2d(weights, [n, total]), avg),
        this.opts.loss_cls?.loss_weight ?? 1,
      ) as tf.Scalar;
      const regFlat = tf.reshape(tf.concat(out.reg.map((r) => tf.reshape(r, [n, -1, 4])), 1), [n * total, 4]);
      let lossBbox: tf.Scalar;
      if (posIdx.length === 0) {
        lossBbox = tf.mul(tf.sum(regFlat), 0) as tf.Scalar;
      } else {
        const pred = tf.gather(regFlat, tf.tensor1d(posIdx, 'int32'));
        const p = posIdx.length;
        const gtTargets = Boxes.concat(posGt);
        posGt.push(gtTargets);
        const target = this.coder.encode(tf.tensor2d(posAnchors, [p, 4]), gtTargets.tensor);
        lossBbox = tf.mul(l1Loss(pred, target, avg), this.opts.loss_bbox?.loss_weight ?? 1) as tf.Scalar;
      }
      return { loss_rpn_cls: lossCls, loss_rpn_bbox: lossBbox };
    } finally {
      for (const g of posGt) g.dispose();
    }
  }

  /**
   * Proposals per image (mmdet RPNHead._get_bboxes_single + _bbox_post_process): top nms_pre anchors
   * by objectness per level, decoded and clipped to the image, boxes with w or h <= min_bbox_size
   * dropped, NMS with the level as batch index, then the best max_per_img. The candidates of the whole
   * batch are packed into one tensor and read back once; NMS runs on the CPU (proposals carry no
   * gradient). Synchronous read: for the cpu/wasm training step only (getProposalsAsync everywhere else).
   * Returns one InstanceData per image (bboxes in resized-image pixels, scores); the caller owns them.
   */
  getProposals(out: RpnOutputs, images: ImageInfo[], cfg: ProposalCfg): InstanceData[] {
    const { packed, counts } = this.packedCandidates(out, images, cfg);
    try {
      return this.selectAll(packed.dataSync() as Float32Array, counts, cfg);
    } finally {
      packed.dispose();
    }
  }

  /**
   * getProposals with one asynchronous read per batch (`await data()`): the test path and webgpu
   * training. Same proposals as getProposals; the caller owns them.
   */
  async getProposalsAsync(out: RpnOutputs, images: ImageInfo[], cfg: ProposalCfg): Promise<InstanceData[]> {
    const { packed, counts } = this.packedCandidates(out, images, cfg);
    try {
      return this.selectAll((await packed.data()) as Float32Array, counts, cfg);
    } finally {
      packed.dispose();
    }
  }

  /**
   * The nms_pre best decoded boxes of every image and level, packed as rows (x1, y1, x2, y2, score) of
   * one [T, 5] tensor, image-major then level; counts[i][l] rows for image i, level l (known from the
   * shapes, so the host can split the single read).
   */
  private packedCandidates(out: RpnOutputs, images: ImageInfo[], cfg: ProposalCfg): { packed: tf.Tensor2D; counts: number[][] } {
    const n = out.cls[0].shape[0];
    if (images.length !== n) throw new RangeError(`getProposals: ${n} images in the batch but ${images.length} image infos`);
    const levelAnchors = this.gridAnchors(out.cls.map((c) => [c.shape[1], c.shape[2]]));
    const counts: number[][] = [];
    const packed = tf.tidy(() => {
      const rows: tf.Tensor2D[] = [];
      for (let i = 0; i < n; i++) {
        const [imgH, imgW] = images[i].imgShape;
        counts.push([]);
        out.cls.forEach((cls, l) => {
          let sc = tf.sigmoid(tf.reshape(tf.slice(cls, [i, 0, 0, 0], [1, -1, -1, -1]), [-1])) as tf.Tensor1D;
          let d = tf.reshape(tf.slice(out.reg[l], [i, 0, 0, 0], [1, -1, -1, -1]), [-1, 4]) as tf.Tensor2D;
          let a = tf.tensor2d(levelAnchors[l], [levelAnchors[l].length / 4, 4]);
          if (cfg.nms_pre > 0 && sc.shape[0] > cfg.nms_pre) {
            const top = tf.topk(sc, cfg.nms_pre, true);
            sc = top.values as tf.Tensor1D;
            d = tf.gather(d, top.indices);
            a = tf.gather(a, top.indices);
          }
          counts[i].push(sc.shape[0]);
          rows.push(tf.concat([this.coder.decode(a, d, [imgH, imgW]), tf.reshape(sc, [-1, 1])], 1));
        });
      }
      return (rows.length === 1 ? rows[0] : tf.concat(rows, 0)) as tf.Tensor2D;
    });
    return { packed, counts };
  }

  /** Splits the packed host rows per image and runs selectImage on each. */
  private selectAll(host: Float32Array, counts: number[][], cfg: ProposalCfg): InstanceData[] {
    let row = 0;
    return counts.map((levelCounts) => {
      const total = levelCounts.reduce((x, y) => x + y, 0);
      const bboxes = new Float32Array(total * 4);
      const scores = new Float32Array(total);
      const levels = new Int32Array(total);
      let k = 0;
      levelCounts.forEach((c, l) => {
        for (let j = 0; j < c; j++, k++, row++) {
          bboxes.set(host.subarray(row * 5, row * 5 + 4), k * 4);
          scores[k] = host[row * 5 + 4];
          levels[k] = l;
        }
      });
      const kept = filterAndNms(bboxes, scores, levels, cfg);
      return InstanceData.fromArrays(kept.bboxes, { scores: kept.scores });
    });
  }
}

/** Drops boxes with w or h <= min_bbox_size, then level-batched NMS and the best max_per_img (host arrays). */
function filterAndNms(bboxes: Float32Array, scores: Float32Array, levels: Int32Array, cfg: ProposalCfg): { bboxes: Float32Array; scores: Float32Array } {
  const minSize = cfg.min_bbox_size ?? 0;
  const keep: number[] = [];
  for (let k = 0; k < scores.length; k++) {
    const w = bboxes[k * 4 + 2] - bboxes[k * 4];
    const h = bboxes[k * 4 + 3] - bboxes[k * 4 + 1];
    if (w > minSize && h > minSize) keep.push(k);
  }
  const b = new Float32Array(keep.length * 4);
  const s = new Float32Array(keep.length);
  const lv = new Int32Array(keep.length);
  keep.forEach((k, j) => {
    b.set(bboxes.subarray(k * 4, k * 4 + 4), j * 4);
    s[j] = scores[k];
    lv[j] = levels[k];
  });
  const kept = batchedNms(b, s, lv, cfg.nms.iou_threshold, cfg.max_per_img);
  const ob = new Float32Array(kept.length * 4);
  const os = new Float32Array(kept.length);
  kept.forEach((k, j) => {
    ob.set(b.subarray(k * 4, k * 4 + 4), j * 4);
    os[j] = s[k];
  });
  return { bboxes: ob, scores: os };
}
