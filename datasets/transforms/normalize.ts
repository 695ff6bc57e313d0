/**
 * Normalize: (img - mean) / std as float32. Our decoder yields RGB (mmcv loads BGR),
 * so to_rgb=true keeps RGB and to_rgb=false produces BGR — the same channel order
 * the reference model sees for the same config.
 */
import { type Infer, s } from '../../core/config_schema';
import { finiteTriple } from '../config_fields';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

/** Normalize's fields. */
export const normalizeSchema = s.object({
  mean: finiteTriple(),
  std: finiteTriple(),
  to_rgb: s.boolean().optional().describedAs('default true'),
});
export type NormalizeConfig = { type: 'Normalize' } & Infer<typeof normalizeSchema>;

export class Normalize implements Transform {
  readonly type = 'Normalize';
  constructor(readonly cfg: NormalizeConfig) {}

  apply(s: PipelineState): PipelineState {
    const img = need(s.img, this.type, 'image', s.raw.filename);
    const toRgb = this.cfg.to_rgb !== false;
    const want = toRgb ? 'rgb' : 'bgr';
    const swap = s.channel_order !== want;
    // mmcv imnormalize_: cv2.subtract(img, mean) then cv2.multiply(img, 1 / std) on float32; OpenCV
    // converts the scalars to float32 and rounds each operation to float32, so do we.
    const fr = Math.fround;
    const [m0, m1, m2] = this.cfg.mean.map((v) => fr(v));
    const [i0, i1, i2] = this.cfg.std.map((v) => fr(1 / v));
    const out = new Float32Array(img.length);
    for (let p = 0; p < img.length; p += 3) {
      const c0 = swap ? img[p + 2] : img[p];
      const c2 = swap ? img[p] : img[p + 2];
      out[p] = fr(c0 - m0) * i0;
      out[p + 1] = fr(img[p + 1] - m1) * i1;
      out[p + 2] = fr(c2 - m2) * i2;
    }
    s.img = out;
    s.channel_order = want;
    s.meta.img_norm_cfg = { mean: [...this.cfg.mean], std: [...this.cfg.std], to_rgb: toRgb };
    return s;
  }
}
