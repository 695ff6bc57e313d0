/**
 * PhotoMetricDistortion, as mmseg 0.30: each step applied with probability 1/2,
 * on uint8 with clip + truncation after each step:
 * brightness (+U(-32,32)) -> [mode 1: contrast (xU(0.5,1.5))] -> saturation (S channel
 * xU(0.5,1.5) in 8-bit HSV) -> hue (H + randint(-18,18) mod 180) -> [mode 0: contrast].
 * The draw order matches the reference so a shared stream gives the same choices.
 * HSV->RGB truncates as OpenCV 4.x's 8-bit SIMD path does (hsv.ts; bit-exact on the field case).
 */
import { type Infer, s } from '../../core/config_schema';
import type { Rng } from '../../core/rng';
import { finite, positivePair } from '../config_fields';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';
import { hsvToRgb, rgbToHsv } from './hsv';

/** PhotoMetricDistortion's fields. */
export const photoMetricDistortionSchema = s.object({
  brightness_delta: finite().optional().describedAs('default 32'),
  contrast_range: positivePair().optional().describedAs('default (0.5, 1.5)'),
  saturation_range: positivePair().optional().describedAs('default (0.5, 1.5)'),
  hue_delta: s.int({ min: 1 }).optional().describedAs('default 18'),
});
export type PhotoMetricDistortionConfig = { type: 'PhotoMetricDistortion' } & Infer<typeof photoMetricDistortionSchema>;

/** img = uint8(clip(float32(img) * alpha + beta, 0, 255)) over channel `ch` (or all when -1). */
export function convertU8(img: Uint8Array, alpha: number, beta: number, ch = -1): void {
  const f = new Float32Array(1);
  const start = ch < 0 ? 0 : ch;
  const step = ch < 0 ? 1 : 3;
  const a = Math.fround(alpha);
  const b = Math.fround(beta);
  for (let p = start; p < img.length; p += step) {
    f[0] = img[p] * a;
    f[0] = f[0] + b;
    const v = f[0];
    img[p] = v < 0 ? 0 : v > 255 ? 255 : v; // Uint8Array store truncates
  }
}

export class PhotoMetricDistortion implements Transform {
  readonly type = 'PhotoMetricDistortion';
  constructor(readonly cfg: PhotoMetricDistortionConfig) {}

  apply(s: PipelineState, rng: Rng): PipelineState {
    const src = need(s.img, this.type, 'image', s.raw.filename);
    if (!(src instanceof Uint8Array)) throw new Error(`${this.type}: expects a uint8 image (put it before Normalize)`);
    if (s.channel_order !== 'rgb') throw new Error(`${this.type}: expects RGB order`);
    const img = src; // modified in place: transforms own their state
    const bd = this.cfg.brightness_delta ?? 32;
    const [cl, cu] = this.cfg.contrast_range ?? [0.5, 1.5];
    const [sl, su] = this.cfg.saturation_range ?? [0.5, 1.5];
    const hd = this.cfg.hue_delta ?? 18;

    const contrast = () => {
      if (rng.int(0, 2)) convertU8(img, rng.uniform(cl, cu), 0);
    };
    if (rng.int(0, 2)) convertU8(img, 1, rng.uniform(-bd, bd));
    const mode = rng.int(0, 2);
    if (mode === 1) contrast();
    if (rng.int(0, 2)) {
      rgbToHsv(img);
      convertU8(img, rng.uniform(sl, su), 0, 1);
      hsvToRgb(img, s.width);
    }
    if (rng.int(0, 2)) {
      rgbToHsv(img);
      const d = rng.int(-hd, hd);
      for (let p = 0; p < img.length; p += 3) img[p] = (((img[p] + d) % 180) + 180) % 180;
      hsvToRgb(img, s.width);
    }
    if (mode === 0) contrast();
    s.img = img;
    return s;
  }
}
