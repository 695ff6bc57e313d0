// The loss functions of Mask R-CNN with mmdet 2.x reductions: the sum of weighted element losses
// divided by an explicit `avg_factor` (mmdet's weight_reduce_loss with reduction 'mean').
import * as tf from '@tensorflow/tfjs';

/** Element-wise binary cross-entropy with logits, numerically stable: max(x,0) - x*t + log(1 + exp(-|x|)). */
export function bceWithLogits(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
}

/** sum(w * bce(x, t)) / avgFactor (mmdet CrossEntropyLoss, use_sigmoid=True). */
export function sigmoidCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor, avgFactor: number): tf.Scalar {
  return tf.div(tf.sum(tf.mul(bceWithLogits(logits, targets), weights)), Math.max(avgFactor, 1e-12)) as tf.Scalar;
}

/** Softmax cross-entropy of [N, C] logits against integer labels, weighted, divided by avgFactor. */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Int32Array, weights: Float32Array, avgFactor: number): tf.Scalar {
  const [n, c] = logits.shape;
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), c);
  const logp = tf.logSoftmax(logits);
  const nll = tf.neg(tf.sum(tf.mul(logp, oneHot), 1));
  if (n === 0) return tf.mul(tf.sum(logits), 0) as tf.Scalar;
  return tf.div(tf.sum(tf.mul(nll, tf.tensor1d(weights))), Math.max(avgFactor, 1e-12)) as tf.Scalar;
}

/** sum(|pred - target| * w) / avgFactor (mmdet L1Loss). */
export function l1Loss(pred: tf.Tensor, target: tf.Tensor, avgFactor: number, weights?: tf.Tensor): tf.Scalar {
  const d = tf.abs(tf.sub(pred, target));
  return tf.div(tf.sum(weights ? tf.mul(d, weights) : d), Math.max(avgFactor, 1e-12)) as tf.Scalar;
}

/**
 * Top-1 accuracy in percent (mmdet's `accuracy`), as tensor ops so the training step reads nothing back.
 * Ties go to the lowest class index, as argmax does.
 */
export function accuracy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const n = logits.shape[0];
  if (n === 0) return tf.scalar(0);
  return tf.tidy(() => {
    const hits = tf.equal(tf.argMax(logits, 1), tf.tensor1d(labels, 'int32'));
    return tf.mul(tf.mean(tf.cast(hits, 'float32')), 100) as tf.Scalar;
  });
}
