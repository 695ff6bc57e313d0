// The decode head's loss and metric, as mmseg 0.30 BaseDecodeHead.losses: logits are resized
// bilinearly to the label resolution, then softmax cross-entropy with ignore_index and top-1
// accuracy over the non-ignored pixels.
//
// Reduction: mmseg 0.30 CrossEntropyLoss(avg_non_ignore=False) — the default the TinyViM recipe ran
// with — computes F.cross_entropy(reduction='none', ignore_index) (ignored pixels give 0) and then
// takes the mean over ALL label pixels, ignored ones included. `avg_non_ignore: true` divides by the
// number of non-ignored pixels instead (mmseg's opt-in, and PyTorch's own 'mean').
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/errors';
import { resizeBilinear, resizeBilinearBackward } from './resize';

/** mmseg CrossEntropyLoss / decode-head fields, by their config names. */
export interface SegLossOptions {
  /** Label value left out of the loss (default 255). */
  ignore_index?: number;
  /** Multiplier of the loss (default 1). */
  loss_weight?: number;
  /** true: mean over non-ignored pixels; false (default, mmseg 0.30): mean over all pixels. */
  avg_non_ignore?: boolean;
}

/**
 * Cross-entropy of NHWC logits [N, H, W, C] against labels [N, H, W] (int32, values in [0, C) or
 * ignore_index). Labels must already be validated (see checkLabelValues).
 */
export function segCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, opts: SegLossOptions = {}): tf.Scalar {
  const ignore = opts.ignore_index ?? 255;
  const weight = opts.loss_weight ?? 1;
  return tf.tidy(() => {
    const c = logits.shape[3];
    const valid = tf.notEqual(labels, ignore);
    const safe = tf.where(valid, labels, tf.zerosLike(labels));
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(safe, c)), -1);
    const validF = tf.cast(valid, 'float32');
    const total = tf.neg(tf.sum(tf.mul(picked, validF)));
    const denom = opts.avg_non_ignore ? tf.maximum(tf.sum(validF), 1) : tf.scalar(labels.size);
    return tf.mul(tf.div(total, denom), weight) as tf.Scalar;
  });
}

/**
 * segCrossEntropy(resize(logits, label size), labels) without materialising the full-resolution
 * logits of the whole batch: forward and backward run image by image, and only the low-resolution
 * logits are kept for the backward pass. The value and gradient equal the unfused composition; the
 * peak memory of a 4 x 512 x 512 x 150 batch drops from several ~600 MB tensors to a few ~150 MB ones.
 */
export function resizedSegCrossEntropy(logits: tf.Tensor4D, labels: tf.Tensor3D, opts: SegLossOptions & { align_corners?: boolean } = {}): tf.Scalar {
  const ignore = opts.ignore_index ?? 255;
  const weight = opts.loss_weight ?? 1;
  const align = opts.align_corners ?? false;
  const [n, h, w] = labels.shape;
  const c = logits.shape[3];
  // `labels` is passed in (rather than closed over) so the backward pass sees the saved copy even when
  // the caller's tidy has already released the original.
  const perImage = (x: tf.Tensor, allLabels: tf.Tensor, i: number) => {
    const up = resizeBilinear(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, [h, w], align);
    const lab = tf.slice(allLabels, [i, 0, 0], [1, -1, -1]);
    const valid = tf.notEqual(lab, ignore);
    const onehot = tf.oneHot(tf.where(valid, lab, tf.zerosLike(lab)), c);
    return { up, valid: tf.cast(valid, 'float32'), onehot };
  };
  const denom = tf.tidy(() => (opts.avg_non_ignore ? Math.max(tf.sum(tf.cast(tf.notEqual(labels, ignore), 'float32')).dataSync()[0], 1) : labels.size));
  const scale = weight / denom;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const lab = args[1] as tf.Tensor;
    (args[2] as tf.GradSaveFunc)([x, lab]);
    const value = tf.tidy(() => {
      let total: tf.Tensor = tf.scalar(0);
      for (let i = 0; i < n; i++) {
        // One tidy per image: only the running sum outlives an image's full-resolution tensors.
        const part = tf.tidy(() => {
          const { up, valid, onehot } = perImage(x, lab, i);
          const nll = tf.sub(tf.logSumExp(up, -1), tf.sum(tf.mul(up, onehot), -1));
          return tf.sum(tf.mul(nll, valid));
        });
        total = tf.add(total, part);
      }
      return tf.mul(total, scale) as tf.Scalar;
    });
    const gradFunc = (dy: tf.Scalar, saved: tf.Tensor[]) => {
      const [low, savedLabels] = saved as [tf.Tensor4D, tf.Tensor];
      return tf.tidy(() => {
        const parts: tf.Tensor4D[] = [];
        for (let i = 0; i < n; i++) {
          parts.push(
            tf.tidy(() => {
              const { up, valid, onehot } = perImage(low, savedLabels, i);
              const g = tf.mul(tf.mul(tf.sub(tf.softmax(up), onehot), tf.expandDims(valid, -1)), tf.mul(dy, scale));
              return resizeBilinearBackward(g as tf.Tensor4D, [low.shape[1], low.shape[2]], align);
            }),
          );
        }
        return [tf.concat(parts, 0), tf.zerosLike(savedLabels)];
      });
    };
    return { value, gradFunc };
  });
  return f(logits, labels) as tf.Scalar;
}

/** segAccuracy(resize(logits, label size), labels), image by image (see resizedSegCrossEntropy). */
export function resizedSegAccuracy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255, alignCorners = false): tf.Scalar {
  return tf.tidy(() => {
    const [n, h, w] = labels.shape;
    let correct: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < n; i++) {
      const hits = tf.tidy(() => {
        const up = resizeBilinear(tf.slice(logits, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D, [h, w], alignCorners);
        const lab = tf.slice(labels, [i, 0, 0], [1, -1, -1]);
        return tf.sum(tf.cast(tf.logicalAnd(tf.equal(tf.argMax(up, -1), lab), tf.notEqual(lab, ignoreIndex)), 'float32'));
      });
      correct = tf.add(correct, hits);
    }
    const valid = tf.sum(tf.cast(tf.notEqual(labels, ignoreIndex), 'float32'));
    return mmsegAccuracyPercent(correct, valid);
  });
}

/**
 * mmseg's accuracy() (mmseg/models/losses/accuracy.py): (correct + 1e-6) * 100 / (valid + 1e-6), eps
 * on both sides "to avoid ZeroDivisionError when all pixels of an image are ignored": an all-ignored
 * batch logs acc_seg 100, not 0.
 */
function mmsegAccuracyPercent(correct: tf.Tensor, valid: tf.Tensor): tf.Scalar {
  return tf.mul(tf.add(correct, 1e-6), tf.div(100, tf.add(valid, 1e-6))) as tf.Scalar;
}

/** mmseg `accuracy` (top-1, percent): (correct non-ignored pixels + 1e-6) * 100 / (non-ignored pixels + 1e-6). */
export function segAccuracy(logits: tf.Tensor4D, labels: tf.Tensor3D, ignoreIndex = 255): tf.Scalar {
  return tf.tidy(() => {
    const pred = tf.argMax(logits, -1);
    const valid = tf.cast(tf.notEqual(labels, ignoreIndex), 'float32');
    const correct = tf.sum(tf.mul(tf.cast(tf.equal(pred, labels), 'float32'), valid));
    return mmsegAccuracyPercent(correct, tf.sum(valid));
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
