// `SegSample`: one image's segmentation prediction while its scores are still on the device (mmseg 1.x's
// SegDataSample): its geometry, the per-pixel class scores the test step produced (whole-image,
// sliding-window, flip and multi-scale views already combined) and, once read back, the label map.
// EncoderDecoder.inferenceScores hands SegSamples to its caller, who disposes them (the ownership rule
// of docs/architecture.md); predict turns them into host SegResults that outlive the batch.
import * as tf from '@tensorflow/tfjs';
import type { SegResult } from './results';

/** Geometry of one test image, in pixels (mmseg's img_meta keys). */
export interface SegImageInfo {
  /** The image file (carried to the SegResult). */
  filename?: string;
  /** [h, w, c] of the original image: the scores and label map are at this size. */
  ori_shape: readonly number[];
  /** [h, w, c] of the resized image the network saw (before pipeline padding). */
  img_shape: readonly number[];
  /** [h, w, c] after pipeline padding, when the pipeline pads. */
  pad_shape?: readonly number[];
}

/**
 * One image's prediction: `seg_logits` is an owned [H_ori, W_ori, C] float32 tensor (HWC, no batch
 * axis) of softmax scores at the original image size (mmseg 0.30 `inference` returns softmax output;
 * mmseg 1.x names the field seg_logits and stores it CHW). `pred_sem_seg`, once set, is the host label
 * map (row-major H_ori x W_ori class indices; Uint8Array when C <= 256, else Int32Array), so it outlives
 * `dispose()`. No gt_sem_seg: the test path never carries ground truth per image (SemSegEvaluator reads
 * it from the dataset, training takes the batch's label maps as one tensor).
 */
export class SegSample {
  /** The label map, set by `setPredSemSeg` after the argmax is read back. */
  pred_sem_seg?: Uint8Array | Int32Array;

  /**
   * Takes ownership of `seg_logits` ([H_ori, W_ori, C] float32). Throws a RangeError (leaving the
   * tensor with the caller) when it is not rank 3 float32 or its height/width differ from ori_shape.
   */
  constructor(
    readonly metainfo: SegImageInfo,
    readonly seg_logits: tf.Tensor3D,
  ) {
    const [oh, ow] = metainfo.ori_shape;
    if (seg_logits.rank !== 3 || seg_logits.dtype !== 'float32' || seg_logits.shape[0] !== oh || seg_logits.shape[1] !== ow) {
      throw new RangeError(
        `SegSample${metainfo.filename ? ` (${metainfo.filename})` : ''}: seg_logits must be [${oh}, ${ow}, C] float32 (ori_shape), got [${seg_logits.shape.join(', ')}] ${seg_logits.dtype}`,
      );
    }
  }

  /**
   * One SegSample per image of a batch of scores [n, H_ori, W_ori, C] (borrowed: the caller still
   * disposes it). `metas` has one entry per image, or one entry shared by all. A single image keeps
   * the batch's data (a reshape, no copy); several are unstacked. Throws a RangeError, creating no
   * tensor, when the counts or shapes disagree.
   */
  static fromBatch(scores: tf.Tensor4D, metas: SegImageInfo | readonly SegImageInfo[]): SegSample[] {
    const [n, h, w] = scores.shape;
    const list = Array.isArray(metas) ? (metas as readonly SegImageInfo[]) : Array.from({ length: n }, () => metas as SegImageInfo);
    if (list.length !== n) throw new RangeError(`SegSample.fromBatch: ${list.length} metas for ${n} images`);
    const bad = list.find((m) => m.ori_shape[0] !== h || m.ori_shape[1] !== w);
    if (bad) throw new RangeError(`SegSample.fromBatch: scores are ${h}x${w} but ori_shape of ${bad.filename ?? 'an image'} is ${bad.ori_shape[0]}x${bad.ori_shape[1]}`);
    if (scores.dtype !== 'float32') throw new RangeError(`SegSample.fromBatch: scores must be float32, got ${scores.dtype}`);
    const parts = tf.tidy(() => (n === 1 ? [tf.reshape(scores, [h, w, scores.shape[3]]) as tf.Tensor3D] : (tf.unstack(scores) as tf.Tensor3D[])));
    return parts.map((t, i) => new SegSample(list[i], t));
  }

  /** Number of classes C. */
  get numClasses(): number {
    return this.seg_logits.shape[2];
  }

  get isDisposed(): boolean {
    return this.seg_logits.isDisposed;
  }

  /** The argmax over classes, [H_ori, W_ori] int32 on the device (the caller disposes it). */
  labelMap(): tf.Tensor2D {
    return tf.tidy(() => tf.argMax(this.seg_logits, -1) as tf.Tensor2D);
  }

  /**
   * Stores the label map read back from `labelMap()` (H_ori*W_ori int32, copied: Uint8Array when
   * C <= 256 as mmseg's uint8 maps, else Int32Array). Throws a RangeError on another length.
   */
  setPredSemSeg(labels: Int32Array): void {
    const [oh, ow] = this.metainfo.ori_shape;
    if (labels.length !== oh * ow) throw new RangeError(`SegSample.setPredSemSeg: ${labels.length} labels for a ${oh}x${ow} image`);
    this.pred_sem_seg = this.numClasses <= 256 ? Uint8Array.from(labels) : Int32Array.from(labels);
  }

  /** The host result (filename, size, label map) that evaluators and drawing read; needs pred_sem_seg. */
  toResult(): SegResult {
    if (!this.pred_sem_seg) throw new Error('SegSample.toResult: pred_sem_seg is not set (call setPredSemSeg first)');
    return { filename: this.metainfo.filename ?? '', height: this.metainfo.ori_shape[0], width: this.metainfo.ori_shape[1], sem_seg: this.pred_sem_seg };
  }

  /** Frees the scores (idempotent); pred_sem_seg stays readable. */
  dispose(): void {
    if (!this.seg_logits.isDisposed) this.seg_logits.dispose();
  }
}

/** Disposes every sample of a list. */
export function disposeSegSamples(samples: readonly SegSample[]): void {
  for (const s of samples) s.dispose();
}
