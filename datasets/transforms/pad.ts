/**
 * Pad (mmdet 2.28 / mmseg 0.30) bottom/right: to `size` (h, w), to a multiple of `size_divisor`, or
 * (mmdet) to a square of the longer side (`pad_to_square`, then size_divisor if given). With `size`
 * smaller than the image on a side, that side is left as is (mmcv.impad >= 1.5: pad = max(size - side, 0)).
 * pad_val: a number (mmseg; masks 0) or mmdet's {img, masks, seg}; seg_pad_val (mmseg) default 255.
 * Pipeline padding is part of the input the model sees: img_shape keeps the valid area, pad_shape
 * the padded array (collate adds batch padding separately).
 */
import { type Infer, s } from '../../core/config_schema';
import { finite, positivePair } from '../config_fields';
import { padPixels } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

/** Pad's fields (combinations are checked by the constructor). */
export const padSchema = s.object({
  size: positivePair().optional().describedAs('(h, w)'),
  size_divisor: s.int({ min: 1 }).optional(),
  pad_to_square: s.boolean().optional().describedAs('mmdet'),
  pad_val: s
    .union(finite(), s.object({ img: finite().optional(), masks: finite().optional(), seg: finite().optional() }))
    .optional()
    .describedAs('default 0 (mmdet dict: img 0, masks 0, seg 255)'),
  seg_pad_val: finite().optional().describedAs('default 255'),
});
export type PadConfig = { type: 'Pad' } & Infer<typeof padSchema>;

export class Pad implements Transform {
  readonly type = 'Pad';
  constructor(readonly cfg: PadConfig) {
    if (cfg.pad_to_square) {
      if (cfg.size !== undefined) throw new Error('Pad: the size is None when pad_to_square is True (mmdet)');
    } else if ((cfg.size === undefined) === (cfg.size_divisor === undefined))
      throw new Error('Pad: give exactly one of size or size_divisor (or pad_to_square)');
  }

  apply(s: PipelineState): PipelineState {
    const img = need(s.img, this.type, 'image', s.raw.filename);
    const { height: h, width: w } = s;
    let nh: number;
    let nw: number;
    if (this.cfg.size) {
      // mmcv.impad(shape=size) >= 1.5: a side already larger than the size is not padded (nor cropped).
      nh = Math.max(this.cfg.size[0], h);
      nw = Math.max(this.cfg.size[1], w);
    } else if (this.cfg.pad_to_square) {
      nh = nw = Math.max(h, w);
    } else {
      nh = h;
      nw = w;
    }
    const d = this.cfg.size_divisor;
    if (d !== undefined) {
      // mmcv.impad_to_multiple (after pad_to_square's square size when both are given).
      nh = Math.ceil(nh / d) * d;
      nw = Math.ceil(nw / d) * d;
    }
    const pv = this.cfg.pad_val;
    const imgVal = typeof pv === 'object' ? (pv.img ?? 0) : (pv ?? 0);
    const maskVal = typeof pv === 'object' ? (pv.masks ?? 0) : 0;
    const segVal = typeof pv === 'object' ? (pv.seg ?? this.cfg.seg_pad_val ?? 255) : (this.cfg.seg_pad_val ?? 255);
    s.img = padPixels(img, h, w, 3, nh, nw, imgVal);
    if (s.gt_masks) s.gt_masks = s.gt_masks.map((m) => padPixels(m, h, w, 1, nh, nw, maskVal));
    if (s.gt_semantic_seg) s.gt_semantic_seg = padPixels(s.gt_semantic_seg, h, w, 1, nh, nw, segVal);
    // img_shape keeps the valid area; pad_shape is the array size.
    s.height = nh;
    s.width = nw;
    s.meta.pad_shape = [nh, nw, 3];
    return s;
  }
}
