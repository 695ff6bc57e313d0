// Mixup / CutMix on a training batch with soft, label-smoothed targets: timm's `Mixup` in mode 'batch'
// (timm/data/mixup.py, as the official main.py builds it: mixup_alpha 0.8, cutmix_alpha 1.0, prob 1.0,
// switch_prob 0.5, label_smoothing 0.1), written from its documented behaviour. Each batch:
//   with probability `prob`: CutMix with probability `switch_prob` (when both alphas > 0), else Mixup,
//   lam ~ Beta(alpha, alpha); the partner of image i is image B-1-i (the batch flipped).
//   Mixup:  x = lam * x + (1 - lam) * flip(x)
//   CutMix: a box of side sqrt(1 - lam) * (H, W) around a uniform centre (clipped) is pasted from
//           flip(x); lam is corrected to 1 - box area / (H * W)
//   targets = lam * smooth(y) + (1 - lam) * smooth(flip(y)), smooth = one-hot with off = eps / C,
//             on = 1 - eps + off
// Random numbers come from our seeded Rng (not numpy's), so the draws differ from timm's.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng';

export interface MixupOptions {
  mixup_alpha: number;
  cutmix_alpha: number;
  /** Probability of mixing a batch at all (timm mix_prob). */
  prob: number;
  /** Probability of CutMix instead of Mixup when both are enabled. */
  switch_prob: number;
}

/** Standard normal (Box-Muller). */
function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Gamma(shape, 1) by Marsaglia-Tsang (shape < 1 via the U^(1/shape) boost). */
export function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * (1 - rng.next()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

/** The mixing decision of one batch: lam, CutMix box (rows [y0, y1), cols [x0, x1)) or null for Mixup. */
export interface MixDecision {
  lam: number;
  box: { y0: number; y1: number; x0: number; x1: number } | null;
}

/** Draws one batch's decision (timm _params_per_batch + rand_bbox with correct_lam). */
export function drawMix(rng: Rng, o: MixupOptions, height: number, width: number): MixDecision {
  if (!(o.mixup_alpha > 0 || o.cutmix_alpha > 0) || !(rng.next() < o.prob)) return { lam: 1, box: null };
  const cut = o.mixup_alpha > 0 && o.cutmix_alpha > 0 ? rng.next() < o.switch_prob : o.cutmix_alpha > 0;
  const alpha = cut ? o.cutmix_alpha : o.mixup_alpha;
  const lam = sampleBeta(rng, alpha, alpha);
  if (!cut) return { lam, box: null };
  const ratio = Math.sqrt(1 - lam);
  const ch = Math.trunc(height * ratio);
  const cw = Math.trunc(width * ratio);
  const cy = rng.int(0, height);
  const cx = rng.int(0, width);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const box = { y0: clip(cy - Math.floor(ch / 2), height), y1: clip(cy + Math.floor(ch / 2), height), x0: clip(cx - Math.floor(cw / 2), width), x1: clip(cx + Math.floor(cw / 2), width) };
  return { lam: 1 - ((box.y1 - box.y0) * (box.x1 - box.x0)) / (height * width), box };
}

/**
 * Applies a decision to an NHWC batch [B, H, W, 3] with labels (B ints) and returns the mixed batch
 * and the soft targets [B, numClasses] (float32). Call inside tf.tidy.
 */
export function applyMix(x: tf.Tensor4D, labels: Int32Array, numClasses: number, smoothing: number, d: MixDecision): { x: tf.Tensor4D; targets: tf.Tensor2D } {
  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const y = tf.tensor1d(labels, 'int32');
  const y1 = tf.oneHot(y, numClasses, on, off, 'float32');
  const y2 = tf.reverse(y1, 0);
  const targets = tf.add(tf.mul(y1, d.lam), tf.mul(y2, 1 - d.lam)) as tf.Tensor2D;
  if (d.lam === 1) return { x, targets };
  const flipped = tf.reverse(x, 0);
  if (!d.box) return { x: tf.add(tf.mul(x, d.lam), tf.mul(flipped, 1 - d.lam)) as tf.Tensor4D, targets };
  const [, h, w] = x.shape;
  const m = new Float32Array(h * w);
  for (let r = d.box.y0; r < d.box.y1; r++) m.fill(1, r * w + d.box.x0, r * w + d.box.x1);
  const mask = tf.tensor4d(m, [1, h, w, 1]);
  return { x: tf.add(tf.mul(x, tf.sub(1, mask)), tf.mul(flipped, mask)) as tf.Tensor4D, targets };
}

/** timm SoftTargetCrossEntropy: mean over the batch of sum(-targets * log_softmax(logits)). */
export function softTargetCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.sum(tf.mul(tf.neg(targets), tf.logSoftmax(logits)), 1)) as tf.Scalar);
}
