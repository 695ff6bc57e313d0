// `InstanceData`: the per-instance fields of one image (boxes, scores, labels, masks) as one object,
// as mmdet 3's InstanceData. The boxes are a device tensor (Boxes); scores, labels and masks stay on
// the host because every step that reads them runs on the CPU (NMS, assignment, sampling, mask targets,
// mask pasting). Ownership: whoever receives an InstanceData as a return value disposes it.
import { Boxes } from './boxes';

/**
 * Binary masks of N instances on one canvas (mmdet's BitmapMasks, which are host numpy arrays too):
 * one row-major height x width 0/1 bitmap per instance.
 */
export interface BitmapMasks {
  masks: Uint8Array[];
  /** Canvas size in pixels (for ground truth: the padded image, pad_shape). */
  height: number;
  width: number;
}

export interface InstanceFields {
  /** [N, 4] x1, y1, x2, y2 in pixels (owned by the InstanceData). */
  bboxes: Boxes;
  /** [N] confidence scores (proposals: objectness after sigmoid). */
  scores?: Float32Array;
  /** [N] contiguous class labels 0..num_classes-1. */
  labels?: Int32Array;
  /** N bitmaps. */
  masks?: BitmapMasks;
}

export class InstanceData implements InstanceFields {
  readonly bboxes: Boxes;
  readonly scores?: Float32Array;
  readonly labels?: Int32Array;
  readonly masks?: BitmapMasks;

  /** Takes ownership of `fields.bboxes`. Throws a RangeError when the fields disagree on N. */
  constructor(fields: InstanceFields) {
    const n = fields.bboxes.length;
    const check = (name: string, len: number | undefined) => {
      if (len !== undefined && len !== n) throw new RangeError(`InstanceData: ${name} has ${len} entries for ${n} bboxes`);
    };
    check('scores', fields.scores?.length);
    check('labels', fields.labels?.length);
    check('masks', fields.masks?.masks.length);
    this.bboxes = fields.bboxes;
    this.scores = fields.scores;
    this.labels = fields.labels;
    this.masks = fields.masks;
  }

  /** Instances with boxes from a flat host array [N*4] (kept as the Boxes' host copy) and optional host fields. */
  static fromArrays(bboxes: Float32Array, rest: Omit<InstanceFields, 'bboxes'> = {}): InstanceData {
    const boxes = Boxes.fromArray(bboxes);
    try {
      return new InstanceData({ bboxes: boxes, ...rest });
    } catch (e) {
      boxes.dispose();
      throw e;
    }
  }

  /** Number of instances N. */
  get length(): number {
    return this.bboxes.length;
  }

  get isDisposed(): boolean {
    return this.bboxes.isDisposed;
  }

  /** Frees the tensors (the boxes); idempotent. */
  dispose(): void {
    this.bboxes.dispose();
  }
}
