/** Pad bottom/right to a fixed size or a multiple of size_divisor (image pad_val, masks 0, label map seg_pad_val). */
import { padPixels } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

export interface PadConfig {
  type: 'Pad';
  size?: [number, number]; // (h, w)
  size_divisor?: number;
  pad_val?: number; // default 0
  seg_pad_val?: number; // default 255
}

export class Pad implements Transform {
  readonly type = 'Pad';
  constructor(readonly cfg: PadConfig) {
    if ((cfg.size === undefined) === (cfg.size_divisor === undefined))
      throw new Error('Pad: give exactly one of size or size_divisor');
  }

  apply(s: PipelineState): PipelineState {
    const img = need(s.img, this.type, 'image', s.raw.filename);
    const { height: h, width: w } = s;
    let nh: number;
    let nw: number;
    if (this.cfg.size) {
      // mmcv.impad with a shape smaller than the image raises; so do we.
      [nh, nw] = this.cfg.size;
      if (nh < h || nw < w) throw new Error(`Pad: image ${h}x${w} is larger than pad size ${nh}x${nw} (${s.raw.filename})`);
    } else {
      const d = this.cfg.size_divisor as number;
      nh = Math.ceil(h / d) * d;
      nw = Math.ceil(w / d) * d;
    }
    s.img = padPixels(img, h, w, 3, nh, nw, this.cfg.pad_val ?? 0);
    if (s.gt_masks) s.gt_masks = s.gt_masks.map((m) => padPixels(m, h, w, 1, nh, nw, 0));
    if (s.gt_semantic_seg) s.gt_semantic_seg = padPixels(s.gt_semantic_seg, h, w, 1, nh, nw, this.cfg.seg_pad_val ?? 255);
    // img_shape keeps the valid area; pad_shape is the array size.
    s.height = nh;
    s.width = nw;
    s.meta.pad_shape = [nh, nw, 3];
    return s;
  }
}
