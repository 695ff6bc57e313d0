// Each transform against hand-computed expectations (mmdet/mmseg semantics).
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng';
import { buildPipeline, buildTransform } from '../datasets/pipeline';
import { rgbToHsv, hsvToRgb } from '../datasets/transforms/hsv';
import { chooseScale, rescaleSize } from '../datasets/transforms/resize';
import { newState, type PipelineState } from '../datasets/types';
import { collate } from '../datasets/collate';
import type { Transform } from '../datasets/transforms/base';

function state(h: number, w: number, fill = 0): PipelineState {
  const s = newState({ task: 'det', index: 0, filename: 'mem.jpg', ori_filename: 'mem.jpg' });
  s.img = new Uint8Array(h * w * 3).fill(fill);
  s.height = h;
  s.width = w;
  s.meta.ori_shape = [h, w, 3];
  s.meta.img_shape = [h, w, 3];
  s.meta.pad_shape = [h, w, 3];
  return s;
}

const run = (t: Transform, s: PipelineState, seed = 0) => t.apply(s, new Rng(seed)) as PipelineState;

/** An Rng stand-in replaying scripted values and logging calls (to check the draw order). */
function scripted(values: number[]) {
  const log: string[] = [];
  const rng = {
    next: () => (log.push('next'), values.shift()!),
    int: (lo: number, hi: number) => (log.push(`int(${lo},${hi})`), values.shift()!),
    uniform: (a: number, b: number) => (log.push(`uniform(${a},${b})`), values.shift()!),
  };
  return { rng: rng as unknown as Rng, log };
}

describe('Resize (mmcv imrescale rule)', () => {
  it('computes keep-ratio sizes by hand', () => {
    // 640x480 -> min(1333/640, 800/480) = 1.6667 -> (int(1066.67+.5), int(800+.5))
    expect(rescaleSize(640, 480, [1333, 800])).toMatchObject({ nw: 1067, nh: 800 });
    // tall 300x1000: long edge binds: 1333/1000 -> (400, 1333)
    expect(rescaleSize(300, 1000, [1333, 800])).toMatchObject({ nw: 400, nh: 1333 });
    // scale given as (h, w)-like order makes no difference
    expect(rescaleSize(500, 375, [800, 1333])).toMatchObject({ nw: 1067, nh: 800 });
  });

  it('scales and clips boxes, resizes masks nearest, records scale_factor', () => {
    const s = state(480, 640, 7);
    s.gt_bboxes = Float32Array.from([10, 20, 110, 220, 600, 400, 700, 500]);
    const m = new Uint8Array(480 * 640);
    m[0] = 1; // top-left pixel
    s.gt_masks = [m];
    run(buildTransform({ type: 'Resize', img_scale: [1333, 800], keep_ratio: true }), s);
    expect([s.height, s.width]).toEqual([800, 1067]);
    expect(s.meta.img_shape).toEqual([800, 1067, 3]);
    const fw = 1067 / 640;
    const fh = 800 / 480;
    expect(s.meta.scale_factor[0]).toBeCloseTo(fw, 10);
    expect(s.meta.scale_factor[1]).toBeCloseTo(fh, 10);
    const b = Array.from(s.gt_bboxes);
    expect(b[0]).toBeCloseTo(10 * fw, 3);
    expect(b[3]).toBeCloseTo(220 * fh, 3);
    expect(b[6]).toBe(1067); // clipped to the width
    expect(b[7]).toBe(800);
    // nearest: dst x maps to floor(x*640/1067): pixels 0 and 1 come from source 0, pixel 2 from source 1
    expect(s.gt_masks![0].length).toBe(800 * 1067);
    expect([s.gt_masks![0][0], s.gt_masks![0][1], s.gt_masks![0][2]]).toEqual([1, 1, 0]);
    expect(s.img![1000]).toBe(7); // constant image stays constant under bilinear
  });

  it('ratio_range draws int(scale * U(lo, hi)) as mmseg', () => {
    const { rng } = scripted([0.5]);
    // ratio = 0.5 * (2.0 - 0.5) + 0.5 = 1.25
    expect(chooseScale({ type: 'Resize', img_scale: [2048, 512], ratio_range: [0.5, 2.0] }, rng)).toEqual([2560, 640]);
  });

  it('AlignResize rounds the rescaled size up to a multiple of 32', () => {
    const s = state(375, 500);
    run(buildTransform({ type: 'AlignResize', img_scale: [2048, 512], keep_ratio: true, size_divisor: 32 }), s);
    // rescale: min(2048/500, 512/375) = 1.36533 -> 683x512 -> ceil to 704x512
    expect([s.height, s.width]).toEqual([512, 704]);
    expect(s.meta.scale_factor[0]).toBeCloseTo(704 / 500, 10);
  });
});

describe('RandomFlip', () => {
  it('flips boxes (x1 = w - x2) and masks horizontally', () => {
    const s = state(4, 10);
    s.gt_bboxes = Float32Array.from([1, 2, 4, 3]);
    s.gt_bboxes_ignore = Float32Array.from([0, 0, 10, 4]);
    const m = new Uint8Array(40);
    m[0] = 1;
    m[13] = 1; // (y=1, x=3)
    s.gt_masks = [m];
    s.img![0] = 99; // (0,0) red
    run(buildTransform({ type: 'RandomFlip', flip_ratio: 1 }), s);
    expect(s.meta.flip).toBe(true);
    expect(s.meta.flip_direction).toBe('horizontal');
    expect(Array.from(s.gt_bboxes)).toEqual([6, 2, 9, 3]);
    expect(Array.from(s.gt_bboxes_ignore)).toEqual([0, 0, 10, 4]);
    expect(s.gt_masks![0][9]).toBe(1);
    expect(s.gt_masks![0][16]).toBe(1); // (1, 10-1-3=6)
    expect(s.gt_masks![0].reduce((a, b) => a + b, 0)).toBe(2);
    expect(s.img![9 * 3]).toBe(99);
  });

  it('never flips with probability 0, flips about half the time with 0.5', () => {
    const never = buildTransform({ type: 'RandomFlip', prob: 0 });
    expect(run(never, state(2, 2), 3).meta.flip).toBe(false);
    const half = buildTransform({ type: 'RandomFlip', prob: 0.5 });
    let flips = 0;
    for (let i = 0; i < 400; i++) flips += run(half, state(2, 2), i).meta.flip ? 1 : 0;
    expect(flips).toBeGreaterThan(160);
    expect(flips).toBeLessThan(240);
  });
});

describe('RandomCrop with cat_max_ratio', () => {
  // 20 wide x 10 high: cols 0-9 = 255 (ignored), 10-14 = class 0, 15-19 = class 1.
  // A 10x10 window at offset ox passes only for ox in 7..10 (two classes, max share < 0.75,
  // 255 not counted); ox = 5 would pass if 255 were counted as a class.
  function segState(): PipelineState {
    const s = state(10, 20);
    const seg = new Uint8Array(200);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) seg[y * 20 + x] = x < 10 ? 255 : x < 15 ? 0 : 1;
    s.gt_semantic_seg = seg;
    for (let x = 0; x < 20; x++) s.img![x * 3] = x; // column id in the red channel
    return s;
  }

  it('re-draws windows dominated by one class, ignoring 255', () => {
    const t = buildTransform({ type: 'RandomCrop', crop_size: [10, 10], cat_max_ratio: 0.75 });
    const offsets = new Map<number, number>();
    for (let seed = 0; seed < 200; seed++) {
      const s = run(t, segState(), seed);
      expect([s.height, s.width]).toEqual([10, 10]);
      const ox = s.img![0];
      offsets.set(ox, (offsets.get(ox) ?? 0) + 1);
      // label map cropped with the image
      expect(s.gt_semantic_seg![0]).toBe(ox < 10 ? 255 : ox < 15 ? 0 : 1);
    }
    const good = [7, 8, 9, 10].reduce((a, k) => a + (offsets.get(k) ?? 0), 0);
    // P(11 draws all bad) = (7/11)^11 ~ 0.7%: nearly every crop is acceptable
    expect(good).toBeGreaterThanOrEqual(195);
  });

  it('without cat_max_ratio offsets are uniform over 0..margin', () => {
    const t = buildTransform({ type: 'RandomCrop', crop_size: [10, 10] });
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(run(t, segState(), seed).img![0]);
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a crop larger than the image keeps the whole image', () => {
    const s = run(buildTransform({ type: 'RandomCrop', crop_size: [512, 512] }), segState(), 1);
    expect([s.height, s.width]).toEqual([10, 20]);
  });
});

describe('PhotoMetricDistortion', () => {
  it('draws in mmseg order and computes uint8 steps by hand', () => {
    const s = state(1, 1);
    s.img = Uint8Array.from([100, 150, 200]);
    // brightness yes (+10.7), mode 1, contrast yes (x1.2), saturation no, hue no
    const { rng, log } = scripted([1, 10.7, 1, 1, 1.2, 0, 0]);
    buildTransform({ type: 'PhotoMetricDistortion' }).apply(s, rng);
    expect(log).toEqual(['int(0,2)', 'uniform(-32,32)', 'int(0,2)', 'int(0,2)', 'uniform(0.5,1.5)', 'int(0,2)', 'int(0,2)']);
    // 100+10.7 -> 110 (trunc), *1.2 -> 132; 160*1.2 = 192; 210*1.2 = 252
    expect(Array.from(s.img)).toEqual([132, 192, 252]);
  });

  it('mode 0 applies contrast last, after hue', () => {
    const s = state(1, 1);
    s.img = Uint8Array.from([255, 0, 0]);
    // no brightness, mode 0, no saturation, hue yes (+30 -> H=30: yellow), contrast yes x0.5
    const { rng, log } = scripted([0, 0, 0, 1, 30, 1, 0.5]);
    buildTransform({ type: 'PhotoMetricDistortion', hue_delta: 40 }).apply(s, rng);
    expect(log).toEqual(['int(0,2)', 'int(0,2)', 'int(0,2)', 'int(0,2)', 'int(-40,40)', 'int(0,2)', 'uniform(0.5,1.5)']);
    expect(Array.from(s.img)).toEqual([127, 127, 0]); // (255,255,0) * 0.5 truncated
  });

  it('keeps brightness and contrast within their ranges', () => {
    const t = buildTransform({ type: 'PhotoMetricDistortion', saturation_range: [1, 1], hue_delta: 1 });
    const seen = new Set<number>();
    for (let seed = 0; seed < 300; seed++) {
      const s = state(1, 4, 128);
      t.apply(s, new Rng(seed));
      const v = s.img![0];
      seen.add(v);
      // brightness +-32 then contrast x[0.5,1.5], in either order, clipped to uint8
      expect(v).toBeGreaterThanOrEqual(Math.floor(96 * 0.5) - 1);
      expect(v).toBeLessThanOrEqual(Math.min(255, Math.ceil(160 * 1.5)));
    }
    expect(seen.has(128)).toBe(true); // both steps skipped sometimes
    expect(seen.size).toBeGreaterThan(50);
  });

  it('uses OpenCV 8-bit HSV conventions', () => {
    const px = Uint8Array.from([255, 0, 0, 0, 0, 255, 40, 80, 230, 200, 200, 200]);
    rgbToHsv(px);
    // red H=0; blue H=120; (40,80,230): H=(720*647+2048)>>12=114, S=(190*4541+2048)>>12=211
    expect(Array.from(px)).toEqual([0, 255, 255, 120, 255, 255, 114, 211, 230, 0, 0, 200]);
    hsvToRgb(px);
    expect(Array.from(px)).toEqual([255, 0, 0, 0, 0, 255, 40, 78, 230, 200, 200, 200]);
  });
});

describe('Normalize, Pad and collate', () => {
  it('normalises with mean/std and keeps or swaps channel order', () => {
    const s = state(1, 1);
    s.img = Uint8Array.from([10, 20, 30]);
    run(buildTransform({ type: 'Normalize', mean: [1, 2, 3], std: [3, 6, 9], to_rgb: true }), s);
    expect(Array.from((s as PipelineState).img!)).toEqual([3, 3, 3]);
    const b = state(1, 1);
    b.img = Uint8Array.from([10, 20, 30]);
    run(buildTransform({ type: 'Normalize', mean: [0, 0, 0], std: [1, 1, 1], to_rgb: false }), b);
    expect(Array.from((b as PipelineState).img!)).toEqual([30, 20, 10]);
  });

  it('pads image, masks and label map to a multiple of 32 / a fixed size', () => {
    const s = state(33, 40, 5);
    s.gt_masks = [new Uint8Array(33 * 40).fill(1)];
    s.gt_semantic_seg = new Uint8Array(33 * 40).fill(3);
    run(buildTransform({ type: 'Pad', size_divisor: 32 }), s);
    expect(s.meta.pad_shape).toEqual([64, 64, 3]);
    expect(s.meta.img_shape).toEqual([33, 40, 3]);
    expect(s.img![(63 * 64 + 63) * 3]).toBe(0);
    expect(s.gt_masks![0][63 * 64 + 63]).toBe(0);
    expect(s.gt_semantic_seg![63 * 64 + 63]).toBe(255);
    expect(s.gt_semantic_seg![0]).toBe(3);
    const f = run(buildTransform({ type: 'Pad', size: [512, 512], seg_pad_val: 255 }), state(100, 80));
    expect(f.meta.pad_shape).toEqual([512, 512, 3]);
  });

  it('collate pads to the largest image rounded to 32 and keeps metas', async () => {
    const p = buildPipeline([]);
    expect(p.transforms.length).toBe(0);
    const a = state(40, 50, 1);
    const b = state(64, 30, 2);
    const { toSample } = await import('../datasets/pipeline');
    const batch = collate([toSample(a), toSample(b)], 32);
    expect(batch.shape).toEqual([2, 64, 64, 3]);
    expect(batch.data[0]).toBe(1);
    expect(batch.data[(0 * 64 * 64 + 39 * 64 + 49) * 3]).toBe(1);
    expect(batch.data[(0 * 64 * 64 + 40 * 64 + 0) * 3]).toBe(0);
    expect(batch.data[(1 * 64 * 64 + 63 * 64 + 29) * 3]).toBe(2);
    expect(batch.metas.map((m) => m.img_shape)).toEqual([
      [40, 50, 3],
      [64, 30, 3],
    ]);
  });
});

describe('buildPipeline errors name the transform and the field', () => {
  it('rejects unknown fields, wrong types and unknown transforms', () => {
    expect(() => buildPipeline([{ type: 'LoadImageFromFile' }, { type: 'Resize', img_scal: [1333, 800] }])).toThrow(
      /^pipeline\[1\]\.Resize\.img_scal: unknown key 'img_scal'; nearest valid names: img_scale/,
    );
    expect(() => buildPipeline([{ type: 'RandomFlip', flip_ratio: 2 }])).toThrow(/^pipeline\[0\]\.RandomFlip\.flip_ratio: expected a number >= 0 and <= 1, got number 2$/);
    expect(() => buildPipeline([{ type: 'Resize' }])).toThrow(/Resize.config: img_scale is required unless ratio_range is given/);
    expect(() => buildPipeline([{ type: 'Normalise', mean: [0, 0, 0] }])).toThrow(/^pipeline\[0\]\.type: unknown transform type 'Normalise'; nearest valid names: Normalize/);
    expect(() => buildPipeline([{ type: 'Pad' }])).toThrow(/Pad\.config: Pad: give exactly one of size or size_divisor/);
  });
});

describe('Rng', () => {
  it('is deterministic, resumable and in range', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 10; i++) expect(a.next()).toBe(b.next());
    const st = a.state();
    const x = [a.next(), a.int(0, 10), a.uniform(-1, 1)];
    b.setState(st);
    expect([b.next(), b.int(0, 10), b.uniform(-1, 1)]).toEqual(x);
    for (let i = 0; i < 1000; i++) {
      const v = a.int(-18, 18);
      expect(v).toBeGreaterThanOrEqual(-18);
      expect(v).toBeLessThan(18);
    }
    expect(Rng.derive(0, 1, 2)).not.toBe(Rng.derive(0, 2, 1));
    expect(Rng.derive(5, 0, 3)).toBe(Rng.derive(5, 0, 3));
  });
});
