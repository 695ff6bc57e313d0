// The decode head's loss and metric, as mmseg 0.30 BaseDecodeHead.losses: logits are resized
// bilinearly to the label resolution, then softmax cross-entropy with ignore_index and top-1
// accuracy over the non-ignored pixels.
//
// Reduction: mmseg 0.30 CrossEntropyLoss(avg_non_ignore=False) — the default the TinyViM recipe ran
// with — computes F.cross_entropy(reduction='none', ignore_index) (ignored pixels give 0) and then
// takes the mean over ALL label pixels, ignored ones included. `avgNonIgnore: true` divides by the
// number of non-ignored pixels instead (mmseg's opt-in, and PyTorch's own 'mean').
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../core/errors';

export interface SegLossOptions {
  ignoreIndex?: number;
  lossWeight?: number;
  avgNonIgnore?: boolean;
}

/**
 * Cross-entropy of NHWC logits [N, H, W, C] against labels [N, H, W] (int32, values in [0, C) or
 * ignoreIndex). Labels must already be validated (see checkLabelValues).
 */
export function segCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, opts: SegLossOptions = {}): tf.Scalar {
  const ignore = opts.ignoreIndex ?? 255;
  const weight = opts.lossWeight ?? 1;
  return tf.tidy(() => {
    const c = logits.shape[3];
    const valid = tf.notEqual(labels, ignore);
    const safe = tf.where(valid, labels, tf.zerosLike(labels));
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, c)), -1);
    const validF = tf.cast(valid, 'float32');
    const total = tf.neg(tf.sum(tf.mul(picked, validF)));
    const denom = opts.avgNonIgnore ? tf.maximum(tf.sum(validF), 1) : tf.scalar(labels.size);
    return tf.mul(tf.div(total, denom), weight) as tf.Scalar;
  });
}

/** mmseg `accuracy` (top-1, percent): correct non-ignored pixels / (non-ignored pixels + float32 eps). */
export function segAccuracy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255): tf.Scalar {
  return tf.tidy(() => {
    const pred = tf.argMax(logits, -1);
    const valid = tf.cast(tf.notEqual(labels, ignoreIndex), 'float32');
    const correct = tf.sum(tf.mul(tf.cast(tf.equal(pred, labels), 'float32'), valid));
    return tf.mul(tf.div(correct, tf.add(tf.sum(valid), 1.1920928955078125e-7)), 100) as tf.Scalar;
  });
}

export class LabelValueError extends UserError {}

/**
 * Throws when a label map holds values outside [0, numClasses) other than `ignoreIndex`
 * (e.g. a 150-class map given without reduce_zero_label, or a palette PNG).
 */
export function checkLabelValues(labels: Uint8Array | Int32Array, numClasses: number, ignoreIndex: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if ((v < 0 || v >= numClasses) && v !== ignoreIndex) {
      const bad = new Set<number>();
      for (let j = i; j < labels.length && bad.size < 5; j++) {
        const u = labels[j];
        if ((u < 0 || u >= numClasses) && u !== ignoreIndex) bad.add(u);
      }
      throw new LabelValueError(
        `${source}: label value ${[...bad].join(', ')} is outside [0, ${numClasses}) and is not the ignore index ${ignoreIndex} (check num_classes and reduce_zero_label)`,
      );
    }
  }
}
