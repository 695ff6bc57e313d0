import { describe, expect, it } from 'vitest';
import { maskTargets } from '../task_modules/mask_target';
import { pasteMask, pasteMaskProbs } from '../ops/paste_mask';
import { roiAlignSingle } from '../ops/roi_align';
import { f32, loadOpFixture, maxAbsDiff } from './helpers/op_fixtures';

const fx = loadOpFixture('paste_mask.json');
const ra = loadOpFixture('roi_align.json');

describe('pasteMask vs test/fixtures/ops/paste_mask.json (mmdet _do_paste_mask)', () => {
  it('probabilities within 5e-6 of grid_sample, binary >= 0.5 exact', () => {
    const [H, W] = fx.image_size_hw as [number, number];
    const boxes = f32(fx.boxes);
    const masks = f32(fx.masks);
    const out = f32(fx.output);
    const bin = f32(fx['binary_ge_0.5']);
    const n = fx.boxes.shape[0];
    expect(n).toBe(3);
    for (let k = 0; k < n; k++) {
      const box = Array.from(boxes.subarray(4 * k, 4 * k + 4)) as [number, number, number, number];
      const m = masks.subarray(k * 784, (k + 1) * 784);
      const probs = pasteMaskProbs(m, 28, box, H, W);
      // README: f32-vs-f64 gap 1.6e-6, suggested atol 5e-6.
      expect(maxAbsDiff(probs, out.subarray(k * H * W, (k + 1) * H * W)), fx.box_kinds[k]).toBeLessThan(5e-6);
      const b = pasteMask(m, 28, box, H, W);
      expect(Array.from(b), `${fx.box_kinds[k]} binary`).toEqual(Array.from(bin.subarray(k * H * W, (k + 1) * H * W)));
      expect(b.some((v) => v === 1)).toBe(true);
    }
  });
});

describe('roiAlignSingle and maskTargets', () => {
  it('roiAlignSingle reproduces the RoIAlign fixture channel by channel (atol 2e-5)', () => {
    for (const c of ra.cases) {
      const [n, ch, h, w] = c.input.shape as number[];
      const [oh, ow] = c.params.output_size as [number, number];
      const input = f32(c.input);
      const rois = f32(c.rois);
      const want = f32(c.output);
      for (let k = 0; k < c.rois.shape[0]; k++) {
        const b = rois[5 * k];
        expect(b).toBeLessThan(n);
        for (let q = 0; q < ch; q++) {
          const map = input.subarray(((b * ch + q) * h) * w, ((b * ch + q + 1) * h) * w);
          const got = roiAlignSingle(map, h, w, [rois[5 * k + 1], rois[5 * k + 2], rois[5 * k + 3], rois[5 * k + 4]], [oh, ow], c.params.spatial_scale);
          const off = (k * ch + q) * oh * ow;
          expect(maxAbsDiff(got, want.subarray(off, off + oh * ow)), `${c.name} roi ${k} ch ${q}`).toBeLessThan(2e-5);
        }
      }
    }
  });
  it('crops and resizes a hand-made mask to the proposal (binary, >= 0.5)', () => {
    // 20 x 16 canvas with a filled rectangle x in [4, 12), y in [2, 10).
    const H = 20, W = 16;
    const m = new Uint8Array(H * W);
    for (let y = 2; y < 10; y++) for (let x = 4; x < 12; x++) m[y * W + x] = 1;
    const props = new Float32Array([
      4, 2, 12, 10, // exactly the rectangle -> all ones
      0, 0, 16, 20, // whole canvas: rectangle occupies x 1..3 of 4 cols? -> checked below
      8, 2, 16, 10, // right half inside, right half outside the rectangle
      -10, -10, 30, 40, // clipped to the canvas first (same as the whole canvas)
    ]);
    const t = maskTargets(props, new Int32Array([0, 0, 0, 0]), [m], H, W, 4);
    expect(Array.from(t.subarray(0, 16))).toEqual(new Array(16).fill(1));
    // Whole canvas at 4x4: bins are 4 px wide, 5 px tall; rectangle covers cols 1-2, rows 0.4..2.
    expect(Array.from(t.subarray(16, 32))).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(t.subarray(32, 48))).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(Array.from(t.subarray(48, 64))).toEqual(Array.from(t.subarray(16, 32)));
    expect(maskTargets(new Float32Array(0), new Int32Array(0), [m], H, W, 28).length).toBe(0);
    expect(() => maskTargets(props.subarray(0, 4), new Int32Array([1]), [m], H, W, 4)).toThrow(/gt 1/);
  });
});
