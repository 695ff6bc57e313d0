// mmseg 0.30 EncoderDecoder: backbone -> neck -> decode head. Training returns the decode head's
// losses ('decode.loss_ce', 'decode.acc_seg'); inference is whole-image or sliding-window, with
// optional horizontal flip, and returns per-image label maps at the original image size.
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import type { TrainableModel } from '../core/registry';
import { UserError } from '../core/errors';
import type { Rng } from '../core/rng';
import type { ImgMeta, SegBatch } from '../datasets/types';
import type { SegResult } from '../structures/results';
import { SegSample, type SegImageInfo, disposeSegSamples } from '../structures/seg_sample';
import type { FeatureBackbone } from '../backbones/feature_backbone';
import { FPN, checkFpnInChannels } from '../necks/fpn';
import { FPNHead } from '../heads/seg/fpn_head';
import { resizeBilinear } from '../ops/resize';
import { checkLabelValues, resizedSegAccuracy, resizedSegCrossEntropy } from '../ops/seg_loss';


export interface SegLossCfg {
  type: 'CrossEntropyLoss';
  use_sigmoid?: false;
  loss_weight?: number;
  /** mmseg >= 0.24 option; false (the 0.30 default, what the recipe used) averages over all pixels. */
  avg_non_ignore?: boolean;
}

export interface SegTestCfg {
  mode: 'whole' | 'slide';
  /** Sliding window (h, w) and stride (h, w), required in slide mode. */
  crop_size?: [number, number];
  stride?: [number, number];
  /** Also predict on the horizontally flipped image and average the softmax scores (mmseg aug_test). */
  flip?: boolean;
  /**
   * Multi-scale test (mmseg MultiScaleFlipAug img_ratios + EncoderDecoder.aug_test): the softmax
   * scores at each ratio (and its flip) are averaged at the original size. Each scale is the test
   * image resized bilinearly by the ratio and rounded up to a multiple of 32 (AlignResize's
   * size_divisor) instead of re-running the pipeline from the decoded file; the difference is one
   * extra interpolation of the scale-1.0 image.
   */
  img_ratios?: number[];
}

/** The built parts and settings, named as mmseg's EncoderDecoder / decode-head config fields. */
export interface EncoderDecoderOptions {
  /** Any backbone meeting the FeatureBackbone contract (backbones/feature_backbone). */
  backbone: FeatureBackbone;
  neck: FPN;
  decode_head: FPNHead;
  /** decode_head.loss_decode (default: CrossEntropyLoss, weight 1, averaged over all pixels). */
  loss_decode?: SegLossCfg;
  /** decode_head.ignore_index: label value left out of the loss (default 255). */
  ignore_index?: number;
  /** model.test_cfg (default whole-image). */
  test_cfg?: SegTestCfg;
}


/** The module tree; its state_dict keys are mmseg's (`backbone.*`, `neck.*`, `decode_head.*`). */
export class SegmentorNet extends Module {
  constructor(
    readonly backbone: FeatureBackbone,
    readonly neck: FPN,
    readonly decodeHead: FPNHead,
  ) {
    super();
    this.child('backbone', backbone);
    this.child('neck', neck);
    this.child('decode_head', decodeHead);
  }

  /** mmseg encode_decode: logits resized (bilinear, align_corners False) to the input size, NHWC. */
  encodeDecode(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = x.shape;
      // The backbone's size rule: padded at the bottom/right to a size it accepts (identity if valid).
      const xp = this.backbone.padInput(x);
      const logits = this.decodeHead.forward(this.neck.forward(this.backbone.forwardFeatures(xp)));
      // With padding, the logits cover the padded canvas: resize to it, then drop the padding.
      const [, hp, wp] = xp.shape;
      const full = resizeBilinear(logits, [hp, wp], this.decodeHead.alignCorners);
      return hp === h && wp === w ? full : (tf.slice(full, [0, 0, 0, 0], [-1, h, w, -1]) as tf.Tensor4D);
    });
  }
}

export class EncoderDecoder implements TrainableModel<SegBatch, SegResult> {
  readonly module: SegmentorNet;
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly loss: Required<Omit<SegLossCfg, 'use_sigmoid'>>;
  testCfg: SegTestCfg;

  /** The training-time random stream (the decode head's Dropout2d masks); checkpointed by the runner. */
  get rng(): Rng {
    return this.module.decodeHead.rng;
  }

  constructor(opts: EncoderDecoderOptions) {
    checkFpnInChannels(opts.backbone.outChannels, opts.neck.inChannels);
    const neckOuts = opts.neck.numOuts;
    const headIn = opts.decode_head.inChannels;
    if (opts.decode_head.inIndex.some((i) => i >= neckOuts) || headIn.some((c) => c !== opts.neck.outChannels)) {
      throw new UserError(
        `decode_head.in_channels [${headIn.join(', ')}] / in_index [${opts.decode_head.inIndex.join(', ')}] do not fit the neck's ${neckOuts} outputs of ${opts.neck.outChannels} channels`,
      );
    }
    this.module = new SegmentorNet(opts.backbone, opts.neck, opts.decode_head);
    this.numClasses = opts.decode_head.numClasses;
    this.ignoreIndex = opts.ignore_index ?? 255;
    this.loss = { type: 'CrossEntropyLoss', loss_weight: opts.loss_decode?.loss_weight ?? 1, avg_non_ignore: opts.loss_decode?.avg_non_ignore ?? false };
    this.testCfg = opts.test_cfg ?? { mode: 'whole' };
    if (this.testCfg.mode === 'slide' && (!this.testCfg.crop_size || !this.testCfg.stride)) {
      throw new UserError('test_cfg.mode "slide" needs test_cfg.crop_size and test_cfg.stride');
    }
  }

  /** Checks every image's label map; the error names the image whose labels are wrong. */
  private checkLabels(batch: SegBatch): void {
    const [n, h, w] = batch.shape;
    const gt = batch.gt_semantic_seg!;
    for (let i = 0; i < n; i++) {
      const meta = batch.metas[i];
      checkLabelValues(gt.subarray(i * h * w, (i + 1) * h * w), this.numClasses, this.ignoreIndex, `label map of ${meta?.filename ?? `image ${i}`}`);
    }
  }

  forwardTrain(batch: SegBatch): Record<string, tf.Scalar> {
    if (!batch.gt_semantic_seg) throw new UserError('training batch has no gt_semantic_seg (the train pipeline needs LoadAnnotations)');
    this.checkLabels(batch);
    const [n, h, w] = batch.shape;
    return tf.tidy(() => {
      const x = tf.tensor4d(batch.data, batch.shape);
      const labels = tf.tensor3d(Int32Array.from(batch.gt_semantic_seg!), [n, h, w], 'int32');
      const head = this.module.decodeHead;
      const logits = head.forward(this.module.neck.forward(this.module.backbone.forwardFeatures(x)));
      // BaseDecodeHead.losses: logits resized (bilinear) to the label size, then CE and accuracy;
      // fused image by image so the full-resolution logits of the batch never exist at once.
      const lossOpts = { ...this.loss, ignore_index: this.ignoreIndex, align_corners: head.alignCorners };
      return {
        'decode.loss_ce': resizedSegCrossEntropy(logits, labels, lossOpts),
        'decode.acc_seg': resizedSegAccuracy(logits, labels, this.ignoreIndex, head.alignCorners),
      };
    });
  }

  /**
   * The test step for n images [n, h, w, 3] of one geometry (mmseg 0.30 `inference`, rescale=True):
   * one SegSample per image, owned by the caller, whose `seg_logits` are the softmax scores
   * [H_ori, W_ori, C]. `metas` is one entry per image or one shared by all; every entry must have the
   * same ori_shape and img_shape (a RangeError otherwise). `img` (borrowed) is the images as the test
   * pipeline left them, pipeline padding included (a `Pad` in the test pipeline is part of what the
   * network sees); whole and slide inference both crop the logits to img_shape ("remove padding
   * area", mmseg PR #1607) before resizing to ori_shape. Flip: the pipeline flips before Pad, so the
   * valid area is mirrored and the padding stays at the right. With test_cfg.img_ratios (--aug-test),
   * the mean over every (ratio, flip) view (mmseg aug_test); the views are combined inside one tidy,
   * so only the combined scores leave this method.
   */
  inferenceScores(img: tf.Tensor4D, metas: SegImageInfo | readonly SegImageInfo[]): SegSample[] {
    const list = Array.isArray(metas) ? (metas as readonly SegImageInfo[]) : [metas as SegImageInfo];
    const meta = list[0];
    const same = (a: readonly number[], b: readonly number[]) => a[0] === b[0] && a[1] === b[1];
    const odd = list.find((m) => !same(m.ori_shape, meta.ori_shape) || !same(m.img_shape, meta.img_shape));
    if (odd) throw new RangeError(`inferenceScores: ${odd.filename ?? 'an image'} has another ori_shape/img_shape than ${meta.filename ?? 'the first image'}`);
    const scores = tf.tidy(() => {
      const once = (x: tf.Tensor4D, [ih, iw]: readonly number[]) => {
        const logit = this.testCfg.mode === 'slide' ? this.slideLogits(x) : this.module.encodeDecode(x);
        const cropped = logit.shape[1] > ih || logit.shape[2] > iw ? (tf.slice(logit, [0, 0, 0, 0], [-1, ih, iw, -1]) as tf.Tensor4D) : logit;
        return tf.softmax(resizeBilinear(cropped, [meta.ori_shape[0], meta.ori_shape[1]], this.module.decodeHead.alignCorners)) as tf.Tensor4D;
      };
      const withFlip = (x: tf.Tensor4D, shape: readonly number[]) => {
        let scores = once(x, shape);
        if (this.testCfg.flip) {
          const iw = shape[1];
          const w = x.shape[2];
          const mirrored =
            w > iw
              ? (tf.concat([tf.reverse(tf.slice(x, [0, 0, 0, 0], [-1, -1, iw, -1]), 2), tf.slice(x, [0, 0, iw, 0], [-1, -1, w - iw, -1])], 2) as tf.Tensor4D)
              : (tf.reverse(x, 2) as tf.Tensor4D);
          const flipped = tf.reverse(once(mirrored, shape), 2) as tf.Tensor4D;
          scores = tf.div(tf.add(scores, flipped), 2);
        }
        return scores;
      };
      const ratios = this.testCfg.img_ratios;
      if (!ratios?.length) return withFlip(img, meta.img_shape);
      // Every (ratio, flip) view weighs 1 / views, as aug_test's sum divided by len(imgs). Each
      // scale is the unpadded image resized to the ratio, rounded up to a multiple of 32 (AlignResize).
      const [ih, iw] = meta.img_shape;
      const unpadded = ih === img.shape[1] && iw === img.shape[2] ? img : (tf.slice(img, [0, 0, 0, 0], [-1, ih, iw, -1]) as tf.Tensor4D);
      let sum: tf.Tensor4D | null = null;
      for (const r of ratios) {
        const size: [number, number] = [Math.ceil(Math.round(ih * r) / 32) * 32, Math.ceil(Math.round(iw * r) / 32) * 32];
        const x = size[0] === ih && size[1] === iw ? unpadded : resizeBilinear(unpadded, size, false);
        const scores = withFlip(x, size);
        sum = sum ? (tf.add(sum, scores) as tf.Tensor4D) : scores;
      }
      return tf.div(sum!, ratios.length) as tf.Tensor4D;
    });
    try {
      return SegSample.fromBatch(scores, list.length === 1 ? list[0] : list);
    } finally {
      scores.dispose();
    }
  }

  /** mmseg slide_inference: overlapping crops, logits summed and divided by the per-pixel count. */
  slideLogits(img: tf.Tensor4D): tf.Tensor4D {
    const [hCrop, wCrop] = this.testCfg.crop_size!;
    const [hStride, wStride] = this.testCfg.stride!;
    const [, hImg, wImg] = img.shape;
    const hGrids = Math.floor(Math.max(hImg - hCrop + hStride - 1, 0) / hStride) + 1;
    const wGrids = Math.floor(Math.max(wImg - wCrop + wStride - 1, 0) / wStride) + 1;
    return tf.tidy(() => {
      let preds: tf.Tensor4D = tf.zeros([img.shape[0], hImg, wImg, this.numClasses]);
      const count = new Float32Array(hImg * wImg);
      for (let hi = 0; hi < hGrids; hi++) {
        for (let wi = 0; wi < wGrids; wi++) {
          const y2 = Math.min(hi * hStride + hCrop, hImg);
          const x2 = Math.min(wi * wStride + wCrop, wImg);
          const y1 = Math.max(y2 - hCrop, 0);
          const x1 = Math.max(x2 - wCrop, 0);
          const crop = tf.slice(img, [0, y1, x1, 0], [-1, y2 - y1, x2 - x1, -1]) as tf.Tensor4D;
          const logit = this.module.encodeDecode(crop);
          const prev = preds;
          preds = tf.add(preds, tf.pad(logit, [[0, 0], [y1, hImg - y2], [x1, wImg - x2], [0, 0]]));
          prev.dispose();
          for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) count[y * wImg + x] += 1;
        }
      }
      return tf.div(preds, tf.tensor4d(count, [1, hImg, wImg, 1]));
    });
  }

  /**
   * Predicts one label map per image of the batch, each at its original size (mmseg simple_test with
   * rescale). Asynchronous (works on webgpu): images with the same pad_shape, img_shape and ori_shape
   * run as one sub-batch, each cropped to its pad_shape first (pipeline padding is part of the input;
   * only collate's batch padding is removed; mmseg tests one image at a time as its test pipeline left
   * it), with one `await data()` per sub-batch; so a batch gives exactly the label maps of its images
   * run alone.
   */
  async predict(batch: SegBatch): Promise<SegResult[]> {
    const [, H, W, C] = batch.shape;
    const out: SegResult[] = new Array(batch.metas.length);
    const groups = new Map<string, number[]>();
    const padOf = (m: SegBatch['metas'][number]) => m.pad_shape ?? m.img_shape;
    batch.metas.forEach((m, i) => {
      const [ph, pw] = padOf(m);
      const key = `${ph}x${pw}/${m.img_shape[0]}x${m.img_shape[1]}/${m.ori_shape[0]}x${m.ori_shape[1]}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    for (const idx of groups.values()) {
      const meta = batch.metas[idx[0]];
      const [ph, pw] = padOf(meta);
      const [oh, ow] = meta.ori_shape;
      // The group's images cropped to pad_shape on the host: [g, ph, pw, C].
      const data = new Float32Array(idx.length * ph * pw * C);
      idx.forEach((i, k) => {
        for (let y = 0; y < ph; y++) data.set(batch.data.subarray(((i * H + y) * W) * C, ((i * H + y) * W + pw) * C), ((k * ph + y) * pw) * C);
      });
      const x = tf.tensor4d(data, [idx.length, ph, pw, C]);
      let samples: SegSample[];
      try {
        samples = this.inferenceScores(x, idx.map((i) => batch.metas[i]));
      } finally {
        x.dispose();
      }
      try {
        // One read per group: the label maps of its images stacked, [g, H_ori, W_ori] int32.
        const pred = tf.tidy(() => (samples.length === 1 ? samples[0].labelMap() : tf.stack(samples.map((s) => s.labelMap()))));
        let labels: Int32Array;
        try {
          labels = (await pred.data()) as Int32Array;
        } finally {
          pred.dispose();
        }
        samples.forEach((s, k) => {
          s.setPredSemSeg(labels.subarray(k * oh * ow, (k + 1) * oh * ow));
          out[idx[k]] = s.toResult();
        });
      } finally {
        disposeSegSamples(samples);
      }
    }
    return out;
  }

  dispose(): void {
    this.module.dispose();
  }
}
