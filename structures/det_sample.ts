// `DetSample`: what the detector's modules know about one image of a batch (mmdet 3's DetDataSample):
// its geometry, its ground truth (training) and its proposals once the RPN has made them. The model
// builds the samples of a batch, passes them to the heads (borrowed: heads never dispose them) and
// disposes them when the step is done.
import type { InstanceData } from './instance_data';

/** Geometry of one image of a batch, in pixels. */
export interface ImageInfo {
  /** [h, w] of the resized image inside the padded batch tensor. */
  imgShape: [number, number];
  /** [h, w] of the padded image (its part of the batch tensor). */
  padShape: [number, number];
  /** [h, w] of the original image (results are returned at this size). */
  oriShape: [number, number];
  /** [w, h, w, h] resize factors from the original to the resized image. */
  scaleFactor: [number, number, number, number];
}

export class DetSample {
  /** Ground-truth instances: boxes in resized-image pixels, labels, bitmaps at pad_shape (training). */
  gt_instances?: InstanceData;
  /** Crowd boxes the assigners ignore (mmdet's gt_bboxes_ignore), resized-image pixels. */
  ignored_instances?: InstanceData;
  /** RPN proposals: boxes in resized-image pixels and objectness scores. */
  proposals?: InstanceData;

  constructor(
    readonly metainfo: ImageInfo,
    fields: { gt_instances?: InstanceData; ignored_instances?: InstanceData; proposals?: InstanceData } = {},
  ) {
    this.gt_instances = fields.gt_instances;
    this.ignored_instances = fields.ignored_instances;
    this.proposals = fields.proposals;
  }

  /** Frees the tensors of every container it holds; idempotent. */
  dispose(): void {
    this.gt_instances?.dispose();
    this.ignored_instances?.dispose();
    this.proposals?.dispose();
  }
}

/** Disposes every sample of a list. */
export function disposeSamples(samples: readonly DetSample[]): void {
  for (const s of samples) s.dispose();
}
