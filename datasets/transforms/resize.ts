/**
 * Resize (mmdet 2.28 / mmseg 0.30) and AlignResize (TinyViM/PVT test-time).
 * Target scale (_random_scale): ratio_range with img_scale: img_scale[0] * U(ratio_range); ratio_range
 * without img_scale (mmseg mode 1): the image's own (w, h) * ratio; one img_scale: it; several:
 * multiscale_mode 'range' (long/short edges drawn) or 'value' (one picked).
 * keep_ratio follows mmcv.imrescale: factor = min(max(scale)/max(h,w), min(scale)/min(h,w)),
 * new size = int(w*f + 0.5), int(h*f + 0.5); mmseg's min_size first raises the scale's short side to
 * min_size (scale becomes (short*h/w, short) or (short, short*w/h)). keep_ratio false: cv2.resize to scale.
 * The image is bilinear, masks and label maps nearest (cv2 rules, imgops.ts). backend: only 'cv2'
 * (mmcv's default; 'pillow' resampling is not reproduced and is refused by the config check).
 */
import { type Infer, s } from '../../core/config_schema';
import type { Rng } from '../../core/rng';
import { positivePair } from '../config_fields';
import { resizeBilinear, resizeNearest } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

type Pair = [number, number];

/** Resize's fields (combinations are checked by the constructor). */
export const resizeSchema = s.object({
  img_scale: s
    .union(positivePair(), s.array(positivePair(), { minLength: 1 }))
    .optional()
    .describedAs('(w, h)-like pair(s); with keep_ratio only the long/short edge values matter'),
  keep_ratio: s.boolean().optional().describedAs('default true'),
  ratio_range: positivePair().optional().describedAs('mmseg: scale = int(img_scale * U(ratio_range))'),
  multiscale_mode: s.enum(['range', 'value'] as const).optional().describedAs('several img_scale entries'),
  bbox_clip_border: s.boolean().optional().describedAs('default true'),
  min_size: s.int({ min: 1 }).optional().describedAs("mmseg: keep_ratio's short side at least this"),
  backend: s.literal('cv2').optional(),
  override: s.boolean().optional().describedAs('mmdet: only matters when a scale is already set (not by our pipelines)'),
});
export type ResizeConfig = { type: 'Resize' } & Infer<typeof resizeSchema>;

/** AlignResize's fields. */
export const alignResizeSchema = s.object({
  img_scale: positivePair().optional(),
  keep_ratio: s.boolean().optional().describedAs('default true'),
  size_divisor: s.int({ min: 1 }).optional().describedAs('default 32'),
});
export type AlignResizeConfig = { type: 'AlignResize' } & Infer<typeof alignResizeSchema>;

/** mmcv.rescale_size: the (w, h) an image (w, h) gets under keep-ratio scale `scale`. */
export function rescaleSize(w: number, h: number, scale: Pair): { nw: number; nh: number; factor: number } {
  const longEdge = Math.max(scale[0], scale[1]);
  const shortEdge = Math.min(scale[0], scale[1]);
  const factor = Math.min(longEdge / Math.max(h, w), shortEdge / Math.min(h, w));
  return { nw: Math.trunc(w * factor + 0.5), nh: Math.trunc(h * factor + 0.5), factor };
}

/** The img_scale entries of a Resize config (none when img_scale is absent). */
function scalesOf(cfg: ResizeConfig): Pair[] {
  return cfg.img_scale === undefined ? [] : Array.isArray(cfg.img_scale[0]) ? (cfg.img_scale as Pair[]) : [cfg.img_scale as Pair];
}

/**
 * Picks the target scale as mmdet/mmseg Resize._random_scale does; `imageWH` is the current image
 * (w, h), used by mmseg's mode without img_scale.
 */
export function chooseScale(cfg: ResizeConfig, rng: Rng, imageWH?: Pair): Pair {
  const scales = scalesOf(cfg);
  if (cfg.ratio_range) {
    // random_sample_ratio: int(base * ratio) per side, one ratio for both.
    const base = scales.length ? scales[0] : imageWH;
    if (!base) throw new Error('Resize: ratio_range without img_scale needs the image size');
    const [lo, hi] = cfg.ratio_range;
    const ratio = rng.next() * (hi - lo) + lo;
    return [Math.trunc(base[0] * ratio), Math.trunc(base[1] * ratio)];
  }
  if (scales.length === 0) throw new Error('Resize: img_scale is required unless ratio_range is given (mmseg scales the image itself then)');
  if (scales.length === 1) return scales[0];
  if ((cfg.multiscale_mode ?? 'range') === 'range') {
    const longs = scales.map((s) => Math.max(...s));
    const shorts = scales.map((s) => Math.min(...s));
    const L = rng.int(Math.min(...longs), Math.max(...longs) + 1);
    const S = rng.int(Math.min(...shorts), Math.max(...shorts) + 1);
    return [L, S];
  }
  return scales[rng.int(0, scales.length)];
}

/** Resizes image, boxes, masks and label map of `s` to (nh, nw). */
export function resizeState(s: PipelineState, nh: number, nw: number, clip: boolean, transform: string): void {
  const img = need(s.img, transform, 'image', s.raw.filename);
  const h = s.height;
  const w = s.width;
  const ws = nw / w;
  const hs = nh / h;
  s.img = resizeBilinear(img, h, w, 3, nh, nw);
  for (const key of ['gt_bboxes', 'gt_bboxes_ignore'] as const) {
    const b = s[key];
    if (!b) continue;
    for (let i = 0; i < b.length; i += 4) {
      b[i] *= ws;
      b[i + 1] *= hs;
      b[i + 2] *= ws;
      b[i + 3] *= hs;
      if (clip) {
        b[i] = Math.min(Math.max(b[i], 0), nw);
        b[i + 2] = Math.min(Math.max(b[i + 2], 0), nw);
        b[i + 1] = Math.min(Math.max(b[i + 1], 0), nh);
        b[i + 3] = Math.min(Math.max(b[i + 3], 0), nh);
      }
    }
  }
  if (s.gt_masks) s.gt_masks = s.gt_masks.map((m) => resizeNearest(m, h, w, 1, nh, nw));
  if (s.gt_semantic_seg) s.gt_semantic_seg = resizeNearest(s.gt_semantic_seg, h, w, 1, nh, nw);
  s.height = nh;
  s.width = nw;
  s.meta.img_shape = [nh, nw, 3];
  s.meta.pad_shape = [nh, nw, 3];
  // Relative to the original image, like mmdet (Resize runs once per pipeline).
  const [oh, ow] = s.meta.ori_shape;
  const fw = nw / ow;
  const fh = nh / oh;
  s.meta.scale_factor = [fw, fh, fw, fh];
}

export class Resize implements Transform {
  readonly type = 'Resize';
  constructor(readonly cfg: ResizeConfig) {
    const scales = scalesOf(cfg);
    if (scales.length === 0 && !cfg.ratio_range) throw new Error('img_scale is required unless ratio_range is given (mmseg then scales the image itself)');
    if (cfg.ratio_range && scales.length > 1) throw new Error('ratio_range takes one img_scale (mmdet/mmseg assert len(img_scale) == 1)');
    if (cfg.min_size !== undefined && cfg.keep_ratio === false) throw new Error('min_size applies with keep_ratio only (mmseg)');
  }

  apply(s: PipelineState, rng: Rng): PipelineState {
    let scale = chooseScale(this.cfg, rng, [s.width, s.height]);
    s.scale = scale;
    let nh: number;
    let nw: number;
    if (this.cfg.keep_ratio !== false) {
      const ms = this.cfg.min_size;
      if (ms !== undefined) {
        // mmseg _resize_img: the scale's short side raised to min_size, long side in the image's ratio.
        const short = Math.min(scale[0], scale[1]) < ms ? ms : Math.min(scale[0], scale[1]);
        const { width: w, height: h } = s;
        scale = h > w ? [(short * h) / w, short] : [short, (short * w) / h];
      }
      ({ nh, nw } = rescaleSize(s.width, s.height, scale));
    } else [nw, nh] = scale;
    resizeState(s, nh, nw, this.cfg.bbox_clip_border !== false, this.type);
    return s;
  }
}

/**
 * Keep-ratio rescale, then a second resize to the next multiple of size_divisor
 * (ceil) — TinyViM's (PVT's) test-time AlignResize, two passes as the reference.
 */
export class AlignResize implements Transform {
  readonly type = 'AlignResize';
  constructor(readonly cfg: AlignResizeConfig) {}

  apply(s: PipelineState): PipelineState {
    const scale = this.cfg.img_scale ?? [2048, 512];
    const d = this.cfg.size_divisor ?? 32;
    let nh: number;
    let nw: number;
    if (this.cfg.keep_ratio !== false) ({ nh, nw } = rescaleSize(s.width, s.height, scale));
    else [nw, nh] = scale;
    s.scale = scale;
    resizeState(s, nh, nw, true, this.type);
    const ah = Math.ceil(nh / d) * d;
    const aw = Math.ceil(nw / d) * d;
    if (ah !== nh || aw !== nw) resizeState(s, ah, aw, true, this.type);
    return s;
  }
}
