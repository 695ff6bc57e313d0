/**
 * RandomCrop (mmseg): random window of crop_size (h, w), clipped to the image.
 * With cat_max_ratio < 1, re-draws up to 10 times while one class (ignoring
 * ignore_index) covers >= cat_max_ratio of the window or only one class is present;
 * the last draw is used regardless.
 */
import { type Infer, s } from '../../core/config_schema';
import type { Rng } from '../../core/rng';
import { finite, positivePair, probability } from '../config_fields';
import { cropPixels } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

/** RandomCrop's fields. */
export const randomCropSchema = s.object({
  crop_size: positivePair().describedAs('(h, w)'),
  cat_max_ratio: probability().optional().describedAs('default 1 (off)'),
  ignore_index: finite().optional().describedAs('default 255'),
});
export type RandomCropConfig = { type: 'RandomCrop' } & Infer<typeof randomCropSchema>;

type Box = [number, number, number, number]; // y1, y2, x1, x2

export class RandomCrop implements Transform {
  readonly type = 'RandomCrop';
  constructor(readonly cfg: RandomCropConfig) {}

  private draw(h: number, w: number, rng: Rng): Box {
    const [ch, cw] = this.cfg.crop_size;
    const oh = rng.int(0, Math.max(h - ch, 0) + 1);
    const ow = rng.int(0, Math.max(w - cw, 0) + 1);
    return [oh, Math.min(oh + ch, h), ow, Math.min(ow + cw, w)];
  }

  /** True when the window passes the cat_max_ratio test. */
  private acceptable(seg: Uint8Array, w: number, box: Box): boolean {
    const ratio = this.cfg.cat_max_ratio ?? 1;
    const ignore = this.cfg.ignore_index ?? 255;
    const counts = new Float64Array(256);
    for (let y = box[0]; y < box[1]; y++) for (let x = box[2]; x < box[3]; x++) counts[seg[y * w + x]]++;
    let kinds = 0;
    let max = 0;
    let total = 0;
    for (let v = 0; v < 256; v++) {
      if (v === ignore || counts[v] === 0) continue;
      kinds++;
      total += counts[v];
      if (counts[v] > max) max = counts[v];
    }
    return kinds > 1 && max / total < ratio;
  }

  apply(s: PipelineState, rng: Rng): PipelineState {
    const img = need(s.img, this.type, 'image', s.raw.filename);
    const { height: h, width: w } = s;
    let box = this.draw(h, w, rng);
    if ((this.cfg.cat_max_ratio ?? 1) < 1 && s.gt_semantic_seg) {
      for (let t = 0; t < 10; t++) {
        if (this.acceptable(s.gt_semantic_seg, w, box)) break;
        box = this.draw(h, w, rng);
      }
    }
    const [y1, y2, x1, x2] = box;
    s.img = cropPixels(img, w, 3, y1, y2, x1, x2);
    if (s.gt_semantic_seg) s.gt_semantic_seg = cropPixels(s.gt_semantic_seg, w, 1, y1, y2, x1, x2);
    s.height = y2 - y1;
    s.width = x2 - x1;
    s.meta.img_shape = [s.height, s.width, 3];
    s.meta.pad_shape = [s.height, s.width, 3];
    return s;
  }
}
