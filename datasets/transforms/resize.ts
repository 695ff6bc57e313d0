/**
 * Resize (mmdet/mmseg) and AlignResize (TinyViM/PVT test-time).
 * keep_ratio follows mmcv.imrescale: factor = min(max(scale)/max(h,w), min(scale)/min(h,w)),
 * new size = int(w*f + 0.5), int(h*f + 0.5). The image is bilinear, masks and label maps nearest.
 */
import type { Rng } from '../../core/rng';
import { resizeBilinear, resizeNearest } from '../imgops';
import type { PipelineState } from '../types';
import { need, type Transform } from './base';

type Pair = [number, number];

export interface ResizeConfig {
  type: 'Resize';
  /** (w, h)-like pair(s); with keep_ratio only the long/short edge values matter. */
  img_scale?: Pair | Pair[];
  keep_ratio?: boolean; // default true
  ratio_range?: Pair; // mmseg: scale = int(img_scale * U(ratio_range))
  multiscale_mode?: 'range' | 'value'; // several img_scale entries
  bbox_clip_border?: boolean; // default true
}

export interface AlignResizeConfig {
  type: 'AlignResize';
  img_scale?: Pair;
  keep_ratio?: boolean; // default true
  size_divisor?: number; // default 32
}

/** mmcv.rescale_size: the (w, h) an image (w, h) gets under keep-ratio scale `scale`. */
export function rescaleSize(w: number, h: number, scale: Pair): { nw: number; nh: number; factor: number } {
  const longEdge = Math.max(scale[0], scale[1]);
  const shortEdge = Math.min(scale[0], scale[1]);
  const factor = Math.min(longEdge / Math.max(h, w), shortEdge / Math.min(h, w));
  return { nw: Math.trunc(w * factor + 0.5), nh: Math.trunc(h * factor + 0.5), factor };
}

/** Picks the target scale as mmdet/mmseg Resize._random_scale does. */
export function chooseScale(cfg: ResizeConfig, rng: Rng): Pair {
  const scales: Pair[] = cfg.img_scale === undefined ? [] : Array.isArray(cfg.img_scale[0]) ? (cfg.img_scale as Pair[]) : [cfg.img_scale as Pair];
  if (scales.length === 0) throw new Error('Resize: img_scale is required');
  if (cfg.ratio_range) {
    const [lo, hi] = cfg.ratio_range;
    const ratio = rng.next() * (hi - lo) + lo;
    return [Math.trunc(scales[0][0] * ratio), Math.trunc(scales[0][1] * ratio)];
  }
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
  constructor(readonly cfg: ResizeConfig) {}

  apply(s: PipelineState, rng: Rng): PipelineState {
    const scale = chooseScale(this.cfg, rng);
    s.scale = scale;
    let nh: number;
    let nw: number;
    if (this.cfg.keep_ratio !== false) ({ nh, nw } = rescaleSize(s.width, s.height, scale));
    else [nw, nh] = scale;
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
