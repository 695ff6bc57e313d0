// Mask R-CNN (mmdet 2.x `MaskRCNN` = TwoStageDetector): backbone -> FPN -> RPN -> StandardRoIHead.
// `forwardTrain` returns the loss dict the runner differentiates; `predict` returns per-image
// detections in original-image coordinates with masks as COCO compressed RLE.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { Rng } from '../core/rng';
import type { LossDict, TrainableModel } from '../core/registry';
import type { DetBatch, ImgMeta } from '../datasets/types';
import type { FeatureBackbone } from '../backbones/feature_backbone';
import type { FPN } from '../necks/fpn';
import { RPNHead, type RpnOutputs, type RpnTrainCfg } from '../heads/rpn/rpn_head';
import { type RcnnTrainCfg, StandardRoIHead } from '../heads/roi/standard_roi_head';
import type { ProposalCfg, RcnnTestCfg } from '../heads/types';
import { DetSample, type ImageInfo, disposeSamples } from '../structures/det_sample';
import { InstanceData } from '../structures/instance_data';
import { bitmapToRle } from '../structures/mask_rle';
import { type DetectionResult, type InstanceResult, instanceResultJson } from '../structures/results';


export interface MaskRCNNTrainCfg {
  rpn: RpnTrainCfg;
  rpn_proposal: ProposalCfg;
  rcnn: RcnnTrainCfg;
}

export interface MaskRCNNTestCfg {
  rpn: ProposalCfg;
  rcnn: RcnnTestCfg;
}

/** The parameter tree, with mmdet's top-level names (backbone., neck., rpn_head., roi_head.). */
class MaskRCNNModule extends Module {
  constructor(backbone: FeatureBackbone, neck: FPN, rpn: RPNHead, roi: StandardRoIHead) {
    super();
    this.child('backbone', backbone);
    this.child('neck', neck);
    this.child('rpn_head', rpn);
    this.child('roi_head', roi);
  }
}

/** The built parts, named as mmdet's TwoStageDetector arguments (and the config's fields). */
export interface MaskRCNNParts {
  /** Any backbone meeting the FeatureBackbone contract; its strides must match the RoI extractor's featmap_strides. */
  backbone: FeatureBackbone;
  neck: FPN;
  rpn_head: RPNHead;
  roi_head: StandardRoIHead;
  train_cfg: MaskRCNNTrainCfg;
  test_cfg: MaskRCNNTestCfg;
  /** Seed of the anchor/RoI sampling stream (config `sampling_seed`, default 0). */
  sampling_seed?: number;
}

/** Backends whose tensors live on a GPU that Node cannot read synchronously. */
const SYNC_READ_LIMITED = new Set(['webgpu']);

export class MaskRCNN implements TrainableModel<DetBatch, InstanceResult> {
  readonly module: Module;
  readonly backbone: FeatureBackbone;
  readonly neck: FPN;
  readonly rpnHead: RPNHead;
  readonly roiHead: StandardRoIHead;
  readonly trainCfg: MaskRCNNTrainCfg;
  readonly testCfg: MaskRCNNTestCfg;
  readonly rng: Rng;
  /** Proposals computed by prepareTrain for the next forwardTrain (owned here until it takes them). */
  private pendingProposals: InstanceData[] | null = null;

  constructor(parts: MaskRCNNParts) {
    this.backbone = parts.backbone;
    this.neck = parts.neck;
    this.rpnHead = parts.rpn_head;
    this.roiHead = parts.roi_head;
    this.trainCfg = parts.train_cfg;
    this.testCfg = parts.test_cfg;
    this.rng = new Rng(parts.sampling_seed ?? 0);
    this.module = new MaskRCNNModule(parts.backbone, parts.neck, parts.rpn_head, parts.roi_head);
  }

  /** FPN features of a batch (NHWC). */
  extractFeats(x: tf.Tensor4D): tf.Tensor4D[] {
    return this.neck.forward(this.backbone.forwardFeatures(x));
  }

  /**
   * The loss dict of a training batch (inside the runner's variableGrads). The batch's ground truth
   * becomes one DetSample per image (GT boxes as device Boxes); the RPN's proposals are attached to the
   * samples, the heads borrow them, and all of it is freed before returning.
   */
  forwardTrain(batch: DetBatch): LossDict {
    const pending = this.pendingProposals;
    this.pendingProposals = null;
    if (!batch.gt_bboxes || !batch.gt_labels) {
      pending?.forEach((p) => p.dispose());
      throw new Error('MaskRCNN.forwardTrain: the batch has no gt_bboxes/gt_labels (use a training pipeline with LoadAnnotations)');
    }
    const rng = () => this.rng.next();
    const samples = detSamples(batch);
    try {
      const x = tf.tensor4d(batch.data, batch.shape);
      const feats = this.extractFeats(x);
      const rpnOut = this.rpnHead.forward(feats);
      const rpnLosses = this.rpnHead.loss(rpnOut, samples, this.trainCfg.rpn, rng);
      const proposals = pending ?? this.rpnHead.getProposals(rpnOut, samples.map((s) => s.metainfo), this.trainCfg.rpn_proposal);
      samples.forEach((s, i) => (s.proposals = proposals[i]));
      const roi = this.roiHead.forwardTrain(feats, samples, this.trainCfg.rcnn, rng);
      const out: LossDict = { ...rpnLosses, loss_cls: roi.loss_cls, loss_bbox: roi.loss_bbox, acc: roi.acc };
      if (roi.loss_mask) out.loss_mask = roi.loss_mask;
      return out;
    } finally {
      // Proposals not attached yet (an error before) are freed here too.
      pending?.forEach((p) => p.dispose());
      disposeSamples(samples);
    }
  }

  /**
   * Proposals of a batch with the test settings (for inspection and tests); one read per batch.
   * Returns one InstanceData per image (boxes in resized-image pixels, scores); the caller disposes them.
   */
  async proposals(batch: DetBatch): Promise<InstanceData[]> {
    return this.inEvalMode(async () => {
      const feats = tf.tidy(() => this.extractFeats(tf.tensor4d(batch.data, batch.shape)));
      try {
        return await this.testProposals(feats, batch.metas.map(imageInfo));
      } finally {
        tf.dispose(feats);
      }
    });
  }

  /**
   * Detections with bitmap masks (original image size, row-major), as the RoI head produces them.
   * Asynchronous and free of synchronous reads, so it runs on every backend (webgpu included): three
   * `await data()` per group of images (RPN candidates, RCNN scores/boxes, mask probabilities), the
   * NMS and mask pasting on the CPU. Images are grouped by the padded size a batch of one would have
   * (sizeGroups), so a batch gives exactly the results of its images run one at a time.
   */
  async predictBitmaps(batch: DetBatch): Promise<DetectionResult[]> {
    return this.inEvalMode(async () => {
      const out: DetectionResult[] = new Array(batch.metas.length);
      for (const g of sizeGroups(batch)) {
        const samples = g.indices.map((i) => new DetSample(imageInfo(batch.metas[i])));
        const feats = tf.tidy(() => this.extractFeats(groupInput(batch, g)));
        try {
          const proposals = await this.testProposals(feats, samples.map((s) => s.metainfo));
          samples.forEach((s, k) => (s.proposals = proposals[k]));
          const res = await this.roiHead.simpleTest(feats, samples, this.testCfg.rcnn);
          g.indices.forEach((i, k) => (out[i] = res[k]));
        } finally {
          tf.dispose(feats);
          disposeSamples(samples);
        }
      }
      return out;
    });
  }

  /** Detections per image, masks as COCO compressed RLE (memory stays small over a whole val set). */
  async predict(batch: DetBatch): Promise<InstanceResult[]> {
    return (await this.predictBitmaps(batch)).map((r, i) => {
      const out: InstanceResult = { bboxes: r.bboxes, scores: r.scores, labels: r.labels };
      if (r.masks) {
        const [h, w] = batch.metas[i].ori_shape;
        out.masks = r.masks.map((m) => bitmapToRle(m, h, w));
      }
      // Typed arrays serialise as index-keyed objects; give results a plain-array JSON form.
      Object.defineProperty(out, 'toJSON', { value: () => instanceResultJson(out), enumerable: false });
      return out;
    });
  }

  /** Test-time proposals of computed features (RPN outputs disposed here); the caller owns the result. */
  private async testProposals(feats: tf.Tensor4D[], infos: ImageInfo[]): Promise<InstanceData[]> {
    const rpnOut = this.rpnForward(feats);
    try {
      return await this.rpnHead.getProposalsAsync(rpnOut, infos, this.testCfg.rpn);
    } finally {
      tf.dispose([rpnOut.cls, rpnOut.reg]);
    }
  }

  /**
   * On backends that cannot read tensors synchronously (webgpu under Node), computes this batch's
   * training proposals before the differentiated step: the same train-mode forward up to the RPN,
   * read back asynchronously. BatchNorm running statistics are restored afterwards, so the step's own
   * forward updates them exactly once, and the proposals equal those of the one-pass path.
   */
  async prepareTrain(batch: DetBatch, opts: { force?: boolean } = {}): Promise<void> {
    if (!opts.force && !SYNC_READ_LIMITED.has(tf.getBackend())) return;
    const buffers = this.module.namedSlots().filter(([, s]) => s.kind === 'buffer').map(([, s]) => s.variable);
    const saved = buffers.map((v) => tf.clone(v));
    const rpnOut = tf.tidy(() => {
      const o = this.rpnHead.forward(this.extractFeats(tf.tensor4d(batch.data, batch.shape)));
      return { cls: o.cls, reg: o.reg };
    });
    buffers.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
    try {
      const proposals = await this.rpnHead.getProposalsAsync(rpnOut, batch.metas.map(imageInfo), this.trainCfg.rpn_proposal);
      // A previous prepareTrain whose step never ran: its proposals are stale.
      this.pendingProposals?.forEach((p) => p.dispose());
      this.pendingProposals = proposals;
    } finally {
      tf.dispose([rpnOut.cls, rpnOut.reg]);
    }
  }

  /** RPN outputs kept outside any tidy (the caller disposes them). */
  private rpnForward(feats: tf.Tensor4D[]): RpnOutputs {
    const [cls, reg] = tf.tidy(() => {
      const o = this.rpnHead.forward(feats);
      return [o.cls, o.reg];
    });
    return { cls, reg };
  }

  dispose(): void {
    this.pendingProposals?.forEach((p) => p.dispose());
    this.pendingProposals = null;
    this.module.dispose();
  }

  private async inEvalMode<T>(fn: () => Promise<T>): Promise<T> {
    const was = this.module.training;
    this.module.eval();
    try {
      return await fn();
    } finally {
      this.module.train(was);
    }
  }
}

/** Images of a batch that a batch of one would give the same input size: [h, w] and batch rows. */
export interface SizeGroup {
  h: number;
  w: number;
  indices: number[];
}

/**
 * Groups a batch's images by the input size each would have alone: its pad_shape rounded up to
 * `sizeDivisor` (collate's rule; 32 by default, as mmdet's test loaders). Running each group on its own
 * crop of the batch tensor keeps results independent of batch composition: in one padded tensor the
 * conv features near a smaller image's border would see the neighbours' padding size.
 */
export function sizeGroups(batch: DetBatch, sizeDivisor = 32): SizeGroup[] {
  const [, H, W] = batch.shape;
  const groups = new Map<string, SizeGroup>();
  batch.metas.forEach((m, i) => {
    const h = Math.min(Math.ceil(m.pad_shape[0] / sizeDivisor) * sizeDivisor, H);
    const w = Math.min(Math.ceil(m.pad_shape[1] / sizeDivisor) * sizeDivisor, W);
    const key = `${h}x${w}`;
    const g = groups.get(key) ?? { h, w, indices: [] };
    g.indices.push(i);
    groups.set(key, g);
  });
  return [...groups.values()];
}

/** The NHWC input tensor [g, h, w, C] of a size group (the batch tensor itself when it is the whole batch). */
function groupInput(batch: DetBatch, g: SizeGroup): tf.Tensor4D {
  const [N, H, W, C] = batch.shape;
  if (g.indices.length === N && g.h === H && g.w === W) return tf.tensor4d(batch.data, batch.shape);
  const data = new Float32Array(g.indices.length * g.h * g.w * C);
  g.indices.forEach((i, k) => {
    for (let y = 0; y < g.h; y++) data.set(batch.data.subarray(((i * H + y) * W) * C, ((i * H + y) * W + g.w) * C), ((k * g.h + y) * g.w) * C);
  });
  return tf.tensor4d(data, [g.indices.length, g.h, g.w, C]);
}

export function imageInfo(m: ImgMeta): ImageInfo {
  return {
    imgShape: [m.img_shape[0], m.img_shape[1]],
    padShape: [m.pad_shape[0], m.pad_shape[1]],
    oriShape: [m.ori_shape[0], m.ori_shape[1]],
    scaleFactor: [...m.scale_factor],
  };
}

/**
 * One DetSample per image of a training batch, holding its ground truth: `gt_instances` (boxes in
 * resized-image pixels as device Boxes, labels, bitmaps at pad_shape when the batch has masks) and
 * `ignored_instances` (crowd boxes) when there are any. Boxes with zero or negative width/height
 * (which mmdet's dataset drops on loading) are dropped here too, with their labels and masks, so they
 * cannot produce infinite regression targets. The caller owns (disposes) the samples.
 */
export function detSamples(batch: DetBatch): DetSample[] {
  const samples: DetSample[] = [];
  try {
    batch.metas.forEach((meta, i) => {
      const b = batch.gt_bboxes?.[i] ?? new Float32Array(0);
      const l = batch.gt_labels?.[i] ?? new Int32Array(0);
      const masks = batch.gt_masks?.[i];
      const keep: number[] = [];
      for (let j = 0; j < l.length; j++) if (b[j * 4 + 2] > b[j * 4] && b[j * 4 + 3] > b[j * 4 + 1]) keep.push(j);
      const sample = new DetSample(imageInfo(meta));
      samples.push(sample);
      sample.gt_instances = InstanceData.fromArrays(Float32Array.from(keep.flatMap((j) => Array.from(b.subarray(j * 4, j * 4 + 4)))), {
        labels: Int32Array.from(keep.map((j) => l[j])),
        masks: masks ? { masks: keep.map((j) => masks[j]), height: meta.pad_shape[0], width: meta.pad_shape[1] } : undefined,
      });
      const ign = batch.gt_bboxes_ignore?.[i];
      if (ign && ign.length) sample.ignored_instances = InstanceData.fromArrays(ign);
    });
  } catch (e) {
    disposeSamples(samples);
    throw e;
  }
  return samples;
}
