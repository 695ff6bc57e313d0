// Pipeline operations against mmcv 1.7 / mmdet 2.28 / mmseg 0.30 (issue 19), with inputs made here:
// OpenCV's 8-bit HSV path (values measured with OpenCV 4.6: test/fixtures/opencv), Pad(size) on larger
// images, mmseg Resize modes, and mmdet's GroupSampler / DistributedGroupSampler rules.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng';
import type { RawDataset } from '../datasets/base';
import { DataLoader } from '../datasets/loader';
import { buildTransform } from '../datasets/pipeline';
import { groupSamplerIndices, groupSamplerLength } from '../datasets/samplers';
import { cvLinearTable, cvNearestIndices, resizeBilinear, resizeNearest } from '../datasets/imgops';
import { hsvToRgb, rgbToHsv } from '../datasets/transforms/hsv';
import { PhotoMetricDistortion } from '../datasets/transforms/photometric';
import { newState, type PipelineState } from '../datasets/types';

const OPENCV = join(__dirname, 'fixtures', 'opencv', 'photometric_hsv');

function state(h: number, w: number, task: 'det' | 'seg' = 'seg'): PipelineState {
  const s = newState({ task, index: 0, filename: 'mem.png', ori_filename: 'mem.png' });
  s.img = Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 13) % 256);
  s.height = h;
  s.width = w;
  s.meta.ori_shape = [h, w, 3];
  s.meta.img_shape = [h, w, 3];
  s.meta.pad_shape = [h, w, 3];
  return s;
}

/** An Rng stand-in replaying scripted draws. */
function scripted(ints: number[], floats: number[]): Rng {
  return { int: () => ints.shift()!, uniform: () => floats.shift()!, next: () => floats.shift()! } as unknown as Rng;
}

describe('PhotoMetricDistortion HSV steps as OpenCV 4.6 (8-bit SIMD path truncates)', () => {
  const inp = JSON.parse(readFileSync(join(OPENCV, 'input.json'), 'utf8'));
  const exp = JSON.parse(readFileSync(join(OPENCV, 'expected.json'), 'utf8'));
  it('saturation x1.25 then hue +5 equals cv2 at all 768 channel values', () => {
    const s = state(inp.height, inp.width);
    s.img = Uint8Array.from(inp.rgb);
    // mmseg draw order: brightness coin, mode, saturation coin + alpha, hue coin + delta, contrast coin (mode 0)
    const out = new PhotoMetricDistortion({ type: 'PhotoMetricDistortion' }).apply(s, scripted([0, 0, 1, 1, 5, 0], [1.25])).img as Uint8Array;
    expect(Array.from(out)).toEqual(exp.rgb);
  });
  it('a plain BGR->HSV->BGR round trip equals cv2 too', () => {
    const img = Uint8Array.from(inp.rgb);
    rgbToHsv(img);
    hsvToRgb(img, inp.width);
    expect(Array.from(img)).toEqual(exp.roundtrip_rgb);
  });
  it('pixels after the last whole SIMD block of a row take the scalar path (rounded)', () => {
    // H=30, S=255, V=255 -> b = v*(1-s*(1-h)) lands at 0.5 steps for some inputs; compare both paths on one value.
    const px = [10, 200, 201];
    const row = new Uint8Array(33 * 3);
    for (let i = 0; i < 33; i++) row.set(px, i * 3);
    hsvToRgb(row, 33);
    const simd = Array.from(row.subarray(0, 3));
    const tail = Array.from(row.subarray(32 * 3, 33 * 3));
    // Reference by hand: h = 10 * (6/180) = 0.333.., sector 0, s = 200/255, v = 201/255:
    // r = v, g = v * (1 - s * (1 - h)) = 201 * (1 - 0.784 * 0.667) = 95.9.., b = v * (1 - s) = 43.35..
    expect(simd).toEqual([201, 95, 43]); // truncated
    expect(tail).toEqual([201, 96, 43]); // rounded
  });
});

describe('Pad (mmcv.impad >= 1.5 and mmdet options)', () => {
  it('size smaller than the image on one side pads only the other side', () => {
    const s = state(24, 40);
    s.gt_semantic_seg = new Uint8Array(24 * 40).fill(1);
    buildTransform({ type: 'Pad', size: [32, 32], pad_val: 0, seg_pad_val: 255 }).apply(s, new Rng(0));
    expect([s.height, s.width, s.meta.pad_shape, s.meta.img_shape]).toEqual([32, 40, [32, 40, 3], [24, 40, 3]]);
    expect(s.gt_semantic_seg![24 * 40 - 1]).toBe(1);
    expect(s.gt_semantic_seg![24 * 40]).toBe(255);
  });
  it('pad_to_square (then size_divisor) and pad_val as {img, masks, seg}', () => {
    const s = state(20, 33, 'det');
    s.gt_masks = [new Uint8Array(20 * 33).fill(1)];
    buildTransform({ type: 'Pad', pad_to_square: true, size_divisor: 8, pad_val: { img: 7, masks: 3 } }).apply(s, new Rng(0));
    expect([s.height, s.width]).toEqual([40, 40]);
    expect((s.img as Uint8Array)[(39 * 40 + 39) * 3]).toBe(7);
    expect(s.gt_masks![0][39 * 40 + 39]).toBe(3);
    expect(() => buildTransform({ type: 'Pad', pad_to_square: true, size: [8, 8] })).toThrow(/size is None when pad_to_square/);
  });
});

describe('mmseg Resize modes', () => {
  it('ratio_range without img_scale scales the image itself (mode 1), keep_ratio', () => {
    const s = state(24, 40);
    // ratio = 0.5 * (2.0 - 0.5) + 0.5 = 1.25 -> scale (50, 30) -> imrescale factor min(50/40, 30/24) = 1.25
    buildTransform({ type: 'Resize', ratio_range: [0.5, 2.0], keep_ratio: true }).apply(s, scripted([], [0.5]));
    expect([s.width, s.height, s.scale]).toEqual([50, 30, [50, 30]]);
  });
  it('min_size raises the scale\'s short side before imrescale', () => {
    const s = state(24, 40);
    // scale (2048, 16): short 16 < min_size 30 -> scale (30, 30*40/24=50) -> factor min(50/40, 30/24) = 1.25
    buildTransform({ type: 'Resize', img_scale: [2048, 16], keep_ratio: true, min_size: 30 }).apply(s, new Rng(0));
    expect([s.width, s.height]).toEqual([50, 30]);
  });
  it('modes that are not supported are refused with the reason', () => {
    expect(() => buildTransform({ type: 'Resize', img_scale: [[10, 10], [20, 20]], ratio_range: [0.5, 2] })).toThrow(/ratio_range takes one img_scale/);
    expect(() => buildTransform({ type: 'Resize', img_scale: [10, 10], backend: 'pillow' })).toThrow(/Resize\.backend: expected one of "cv2", got the string "pillow"/);
    expect(() => buildTransform({ type: 'Resize', img_scale: [10, 10], keep_ratio: false, min_size: 4 })).toThrow(/min_size applies with keep_ratio only/);
  });
});

describe('GroupSampler (mmdet 2.28 rules)', () => {
  const flags = Uint8Array.from([1, 1, 0, 1, 0, 1, 0, 1]); // 5 landscape, 3 portrait
  it('every batch holds one orientation; groups padded by repeats to 6 + 4 = 10 samples', () => {
    expect(groupSamplerLength(flags, 2)).toBe(10);
    for (let seed = 0; seed < 5; seed++) {
      const order = groupSamplerIndices(flags, 2, new Rng(seed));
      expect(order.length).toBe(10);
      for (let b = 0; b < 5; b++) expect(flags[order[2 * b]]).toBe(flags[order[2 * b + 1]]);
      expect(new Set(order).size).toBe(8); // every image used
    }
  });
  it('the DataLoader groups shuffled detection data and reports mmdet\'s epoch length', () => {
    const sizes = [...flags].map((f) => (f ? [96, 64] : [64, 96]));
    const ds: RawDataset = {
      length: 8,
      task: 'det',
      classes: ['a'],
      pipelineCfg: [],
      raw: (i) => ({ task: 'det', index: i, filename: `${i}.png`, ori_filename: `${i}.png`, width: sizes[i][0], height: sizes[i][1], instances: [] }),
    };
    const loader = new DataLoader(ds, { batchSize: 2, workers: 0, shuffle: true, seed: 0 });
    expect(loader.length).toBe(5);
    const order = loader.order();
    for (let b = 0; b < 5; b++) expect(flags[order[2 * b]]).toBe(flags[order[2 * b + 1]]);
    expect(new DataLoader(ds, { batchSize: 2, workers: 0, shuffle: false, seed: 0 }).length).toBe(4);
    expect(new DataLoader({ ...ds, task: 'seg', raw: ds.raw }, { batchSize: 2, workers: 0, shuffle: true, seed: 0 }).length).toBe(4);
  });
});

describe('cv2.resize rules (OpenCV resize.cpp, derived from its integer algorithm)', () => {
  it('INTER_NEAREST uses floor(d * (1 / (dst / src))) in double: 2 -> 98 keeps row 0 at d = 49', () => {
    expect(cvNearestIndices(2, 98)[49]).toBe(0); // exact 49 * 2 / 98 = 1, but 1 / (98 / 2) rounds below 1/49
    expect(Array.from(cvNearestIndices(4, 6))).toEqual([0, 0, 1, 2, 2, 3]);
    const m = Uint8Array.from([1, 2]);
    expect(resizeNearest(m, 1, 2, 1, 1, 98)[49]).toBe(1);
  });
  it('INTER_LINEAR uint8: 11-bit weights, integer rows, (r0*b0 + r1*b1 + 2^21) >> 22', () => {
    // 3 -> 2: scale 1.5, fx(0) = 0.25 -> weights (1536, 512); fx(1) = 1.75 -> sx 1, weights (512, 1536).
    const t = cvLinearTable(3, 2);
    expect([Array.from(t.i0), Array.from(t.a0), Array.from(t.a1)]).toEqual([[0, 1], [1536, 512], [512, 1536]]);
    const src = Uint8Array.from([0, 101, 255, 0, 101, 255]); // 2 rows x 3
    const out = resizeBilinear(src, 2, 3, 1, 2, 2);
    // row value (0*1536 + 101*512) = 51712; vertical weight 2048 (1 -> same rows): (51712*2048 + 2^21) >> 22 = 25
    // second: 101*512 + 255*1536 = 443392 -> (443392*2048 + 2^21) >> 22 = 217 (216.5 + 0.5 floored)
    expect(Array.from(out)).toEqual([25, 217, 25, 217]);
  });
  it('INTER_LINEAR uint8 vertical pass: SIMD formula on the 16-wide part of a row, scalar on the rest', () => {
    // 5x5, 8 channels -> 3x3: row width 24 elements = 16 (SIMD) + 8 (scalar). Weights for d = 0 are
    // (1365, 683) and for column d = 2 (683, 1365). Ones at (0,0),(1,1) feed output (0,0) with rows
    // r0 = 1365, r1 = 683; ones at (0,4),(1,3) feed output (0,2) with the same r0, r1.
    // SIMD: ((1365 >> 4) * 1365 >> 16) + ((683 >> 4) * 683 >> 16) = 1 + 0; (1 + 2) >> 2 = 0.
    // scalar: (1365 * 1365 + 683 * 683 + 2^21) >> 22 = 1.
    const src = new Uint8Array(5 * 5 * 8);
    for (const [y, x] of [[0, 0], [1, 1], [0, 4], [1, 3]]) src.fill(1, (y * 5 + x) * 8, (y * 5 + x + 1) * 8);
    const out = resizeBilinear(src, 5, 5, 8, 3, 3);
    expect(Array.from(out.subarray(0, 8))).toEqual(Array(8).fill(0));
    expect(Array.from(out.subarray(16, 24))).toEqual(Array(8).fill(1));
  });
  it('an exact 2x downscale is OpenCV INTER_AREA: (a + b + c + d + 2) >> 2', () => {
    const src = Uint8Array.from([1, 2, 3, 4, 0, 0, 1, 1]); // 2 rows x 4
    expect(Array.from(resizeBilinear(src, 2, 4, 1, 1, 2))).toEqual([(1 + 2 + 0 + 0 + 2) >> 2, (3 + 4 + 1 + 1 + 2) >> 2]);
  });
});

describe('mmdet/mmseg signature fields of the loading transforms', () => {
  it('accept the reproduced mode and refuse the others by name', () => {
    expect(() => buildTransform({ type: 'LoadImageFromFile', color_type: 'color', file_client_args: { backend: 'disk' } })).not.toThrow();
    expect(() => buildTransform({ type: 'LoadImageFromFile', color_type: 'unchanged' })).toThrow(/LoadImageFromFile\.color_type: expected one of "color", got the string "unchanged"/);
    expect(() => buildTransform({ type: 'LoadAnnotations', with_mask: true, poly2mask: true })).not.toThrow();
    expect(() => buildTransform({ type: 'LoadAnnotations', poly2mask: false })).toThrow(/LoadAnnotations\.poly2mask: expected one of true, got boolean false/);
    expect(() => buildTransform({ type: 'LoadAnnotations', imdecode_backend: 'cv2' })).toThrow(/imdecode_backend: expected one of "pillow", got the string "cv2"/);
  });
});
