/** RandomFlip: image, boxes (x1' = w - x2), masks and label map. */
import { type Infer, s } from '../../core/config_schema';
import type { Rng } from '../../core/rng';
import { probability } from '../config_fields';
import { flipPixels } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

/** RandomFlip's fields. */
export const randomFlipSchema = s.object({
  prob: probability().optional().describedAs("mmseg's name for the probability"),
  flip_ratio: probability().optional().describedAs("mmdet's name for the probability"),
  direction: s.enum(['horizontal', 'vertical'] as const).optional(),
});
export type RandomFlipConfig = { type: 'RandomFlip' } & Infer<typeof randomFlipSchema>;

/** Flips boxes [n*4] inside an image of size (h, w), in place. */
export function flipBoxes(b: Float32Array, h: number, w: number, dir: 'horizontal' | 'vertical'): void {
  const o = dir === 'horizontal' ? 0 : 1;
  const size = dir === 'horizontal' ? w : h;
  for (let i = 0; i < b.length; i += 4) {
    const a = b[i + o];
    b[i + o] = size - b[i + o + 2];
    b[i + o + 2] = size - a;
  }
}

export class RandomFlip implements Transform {
  readonly type = 'RandomFlip';
  readonly p: number;
  constructor(readonly cfg: RandomFlipConfig) {
    this.p = cfg.prob ?? cfg.flip_ratio ?? 0.5;
  }

  apply(s: PipelineState, rng: Rng): PipelineState {
    const dir = this.cfg.direction ?? 'horizontal';
    // One draw per sample whatever p is, so later transforms see the same stream.
    const flip = rng.next() < this.p;
    s.meta.flip = flip;
    s.meta.flip_direction = flip ? dir : null;
    if (!flip) return s;
    const { height: h, width: w } = s;
    s.img = flipPixels(need(s.img, this.type, 'image', s.raw.filename), h, w, 3, dir);
    if (s.gt_bboxes) flipBoxes(s.gt_bboxes, h, w, dir);
    if (s.gt_bboxes_ignore) flipBoxes(s.gt_bboxes_ignore, h, w, dir);
    if (s.gt_masks) s.gt_masks = s.gt_masks.map((m) => flipPixels(m, h, w, 1, dir));
    if (s.gt_semantic_seg) s.gt_semantic_seg = flipPixels(s.gt_semantic_seg, h, w, 1, dir);
    return s;
  }
}
