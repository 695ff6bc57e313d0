// The `ImageClassifier` model type: a backbone in classification mode (TinyViM with fork_feat false:
// stem -> stages -> norm -> global average pool -> head (+ dist_head)) and a label-smoothing
// cross-entropy loss. The trained module is the backbone itself, so state_dict keys are the official
// ones (`patch_embed.*`, `network.*`, `norm.*`, `head.*`, `dist_head.*`) and the official ImageNet
// .pth (its `model` entry) loads strictly.
import * as tf from '@tensorflow/tfjs';
import { type Infer, s } from '../core/config_schema';
import { ConfigError } from '../core/errors';
import { BACKBONES, type LossDict, MODELS, type TrainableModel } from '../core/registry';
import { Rng } from '../core/rng';
import type { Module } from '../nn/module';
import { type MixupOptions, applyMix, drawMix, softTargetCrossEntropy } from './mixup';
import '../backbones';
import type { ClsResult } from '../structures/classification';

/** A module with a classification forward: NHWC [B, H, W, 3] -> logits [B, C] (a pair in training with distillation). */
export interface ClassifierBackbone extends Module {
  forwardLogits(x: tf.Tensor4D): tf.Tensor2D | [tf.Tensor2D, tf.Tensor2D];
}

/** The batch an ImageClassifier consumes (datasets/classification's ClsBatch). */
export interface ClassifierBatch {
  inputs: tf.Tensor4D;
  labels: Int32Array;
  indices: readonly number[];
}

/**
 * Cross-entropy against (1 - eps) * one_hot + eps / C targets, averaged over the batch: timm's
 * LabelSmoothingCrossEntropy(smoothing=eps) = mmpretrain LabelSmoothLoss(mode='original'); eps = 0 is
 * torch.nn.CrossEntropyLoss. logits [B, C] float32, labels B class indices. Returns a scalar.
 */
export function labelSmoothingCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, eps: number): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1], 1, 0, 'float32')), 1));
    const smooth = tf.neg(tf.mean(logp, 1));
    return tf.mean(tf.add(tf.mul(nll, 1 - eps), tf.mul(smooth, eps))) as tf.Scalar;
  });
}

/** The classifier's settings, named as the `ImageClassifier` config fields (model.loss, model.mixup). */
export interface ImageClassifierOptions {
  /** Classes of the backbone's head (the one-hot width of mixed targets). */
  num_classes: number;
  /** Default CrossEntropyLoss, weight 1; LabelSmoothLoss smooths by label_smooth_val (default 0.1). */
  loss?: { type: 'LabelSmoothLoss' | 'CrossEntropyLoss'; label_smooth_val?: number; loss_weight?: number };
  /** timm Mixup/CutMix (prob default 1, switch_prob 0.5; `seed` of its draws, default 0); null/absent: off. */
  mixup?: (Omit<MixupOptions, 'prob' | 'switch_prob'> & { prob?: number; switch_prob?: number; seed?: number }) | null;
}

export class ImageClassifier implements TrainableModel<ClassifierBatch, ClsResult> {
  /** Mixup/CutMix draws (checkpointed by the runner, so resume is exact); null without mixup. */
  readonly rng: Rng | undefined;
  /** Label smoothing eps of the loss (0: plain cross-entropy). */
  readonly labelSmoothing: number;
  readonly lossWeight: number;
  private readonly mixup: MixupOptions | null;

  constructor(
    readonly module: ClassifierBackbone,
    readonly opts: ImageClassifierOptions,
  ) {
    const loss = opts.loss ?? { type: 'CrossEntropyLoss' };
    this.labelSmoothing = loss.type === 'LabelSmoothLoss' ? (loss.label_smooth_val ?? 0.1) : 0;
    this.lossWeight = loss.loss_weight ?? 1;
    const m = opts.mixup;
    this.mixup = m ? { mixup_alpha: m.mixup_alpha, cutmix_alpha: m.cutmix_alpha, prob: m.prob ?? 1, switch_prob: m.switch_prob ?? 0.5 } : null;
    this.rng = m ? new Rng(m.seed ?? 0) : undefined;
  }

  /**
   * Loss of the class head. With a distillation head the backbone returns (head, dist_head) in
   * training; without a teacher the official DistillationLoss (type 'none') scores the class head
   * alone, and so do we (dist_head then gets no gradient).
   */
  forwardTrain(batch: ClassifierBatch): LossDict {
    const head = (x: tf.Tensor4D) => {
      const out = this.module.forwardLogits(x);
      return Array.isArray(out) ? out[0] : out;
    };
    let loss: tf.Scalar;
    if (this.mixup && this.rng) {
      // timm: the soft targets carry the label smoothing; SoftTargetCrossEntropy scores them.
      const [, h, w] = batch.inputs.shape;
      const { x, targets } = applyMix(batch.inputs, batch.labels, this.opts.num_classes, this.labelSmoothing, drawMix(this.rng, this.mixup, h, w));
      loss = softTargetCrossEntropy(head(x), targets);
    } else {
      loss = labelSmoothingCrossEntropy(head(batch.inputs), batch.labels, this.labelSmoothing);
    }
    return { loss_cls: tf.mul(loss, this.lossWeight) as tf.Scalar };
  }

  /** Softmax scores per image (mmpretrain's pred_score); eval mode averages head and dist_head logits first. */
  predict(batch: ClassifierBatch): ClsResult[] {
    const probs = tf.tidy(() => {
      const out = this.module.forwardLogits(batch.inputs);
      return tf.softmax(Array.isArray(out) ? tf.div(tf.add(out[0], out[1]), 2) : out);
    });
    const [b, c] = probs.shape;
    const data = probs.dataSync() as Float32Array;
    probs.dispose();
    return Array.from({ length: b }, (_, i) => ({ scores: data.slice(i * c, (i + 1) * c) }));
  }

  dispose(): void {
    this.module.dispose();
  }
}

export const imageClassifierSchema = s.object({
  backbone: BACKBONES.schema(),
  loss: s
    .object({
      type: s.enum(['LabelSmoothLoss', 'CrossEntropyLoss'] as const),
      label_smooth_val: s.number({ min: 0, max: 1 }).optional(),
      loss_weight: s.number({ min: 0 }).optional(),
    })
    .optional(),
  /** timm Mixup (mode 'batch'); official: mixup_alpha 0.8, cutmix_alpha 1.0, prob 1.0, switch_prob 0.5. */
  mixup: s
    .object({
      mixup_alpha: s.number({ min: 0 }),
      cutmix_alpha: s.number({ min: 0 }),
      prob: s.number({ min: 0, max: 1 }).optional(),
      switch_prob: s.number({ min: 0, max: 1 }).optional(),
      seed: s.int({ min: 0 }).optional(),
    })
    .nullable()
    .optional(),
});

export type ImageClassifierConfig = Infer<typeof imageClassifierSchema> & { type: 'ImageClassifier' };

/** Builds the classifier; ConfigError when the backbone has no classification forward (e.g. fork_feat: true). */
export function buildImageClassifier(cfg: ImageClassifierConfig): ImageClassifier {
  const backbone = BACKBONES.build(cfg.backbone, undefined, 'model.backbone') as ClassifierBackbone;
  const cls = backbone as unknown as { forwardLogits?: unknown; cfg?: { fork_feat?: boolean; num_classes?: number } };
  if (typeof cls.forwardLogits !== 'function' || cls.cfg?.fork_feat || cls.cfg?.num_classes === 0) {
    backbone.dispose();
    throw new ConfigError('model.backbone must be a classifier (TinyViM with fork_feat: false and num_classes > 0)', 'model.backbone');
  }
  const loss = cfg.loss ?? { type: 'CrossEntropyLoss' as const };
  if (loss.type === 'CrossEntropyLoss' && loss.label_smooth_val) throw new ConfigError("model.loss.label_smooth_val needs type 'LabelSmoothLoss'", 'model.loss.label_smooth_val');
  const m = cfg.mixup;
  if (m && !(cls.cfg?.num_classes && cls.cfg.num_classes > 0)) {
    backbone.dispose();
    throw new ConfigError('model.mixup needs a backbone with num_classes > 0', 'model.mixup');
  }
  return new ImageClassifier(backbone, { num_classes: cls.cfg?.num_classes ?? 0, loss: cfg.loss, mixup: m });
}

if (!MODELS.has('ImageClassifier')) {
  MODELS.register('ImageClassifier', {
    schema: imageClassifierSchema,
    build: (cfg) => buildImageClassifier(cfg as ImageClassifierConfig) as never,
    doc: 'Image classifier (mmpretrain ImageClassifier): a backbone in classification mode + (label-smoothing) cross-entropy',
  });
}
