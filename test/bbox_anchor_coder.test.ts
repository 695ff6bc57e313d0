import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { AnchorGenerator } from '../task_modules/anchor_generator';
import { DeltaXYWHBBoxCoder } from '../task_modules/delta_xywh_coder';
import { mapRoiLevels } from '../heads/roi/level_mapping';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThanOrEqual(tol);
}

describe('AnchorGenerator (mmdet v2 rules)', () => {
  it('base anchors and a 2x2 grid at stride 4, ratios 0.5/1/2, scale 8 (hand-computed)', () => {
    const gen = new AnchorGenerator({ strides: [4], ratios: [0.5, 1, 2], scales: [8] });
    expect(gen.numBaseAnchors).toBe(3);
    // h_ratio = sqrt(r), w_ratio = 1/h_ratio; w = 4 * 8 * w_ratio: 32*sqrt2 = 45.2548, 32, 32/sqrt2 = 22.6274.
    const a = 16 * Math.SQRT2; // half of 45.2548
    const b = 8 * Math.SQRT2; // half of 22.6274
    const base = [-a, -b, a, b, -16, -16, 16, 16, -b, -a, b, a];
    close(gen.baseAnchors[0], base, 1e-5);
    const [grid] = gen.gridAnchors([[2, 2]]);
    expect(grid.length).toBe(2 * 2 * 3 * 4);
    // Order: for y, for x, for anchor; shift (x*4, y*4).
    const want: number[] = [];
    for (const [sx, sy] of [[0, 0], [4, 0], [0, 4], [4, 4]]) {
      for (let k = 0; k < 3; k++) want.push(base[4 * k] + sx, base[4 * k + 1] + sy, base[4 * k + 2] + sx, base[4 * k + 3] + sy);
    }
    close(grid, want, 1e-5);
  });
  it('center_offset, octave scales, several levels and valid flags', () => {
    const gen = new AnchorGenerator({ strides: [8, 16], ratios: [1], octave_base_scale: 4, scales_per_octave: 2, center_offset: 0.5 });
    expect(gen.numBaseAnchors).toBe(2);
    // base 8, scales 4 and 4*sqrt2, centre 4.
    close(gen.baseAnchors[0], [4 - 16, 4 - 16, 4 + 16, 4 + 16, 4 - 16 * Math.SQRT2, 4 - 16 * Math.SQRT2, 4 + 16 * Math.SQRT2, 4 + 16 * Math.SQRT2], 1e-4);
    const levels = gen.gridAnchors([[3, 4], [2, 2]]);
    expect(levels.map((l) => l.length)).toEqual([3 * 4 * 2 * 4, 2 * 2 * 2 * 4]);
    // A padded batch: this image is 17 x 20 of a 24 x 32 batch -> valid 3x3 of the 3x4 stride-8 map.
    const [v0, v1] = gen.validFlags([[3, 4], [2, 2]], [17, 20]);
    const loc = Array.from({ length: 12 }, (_, i) => v0[i * 2]);
    expect(loc).toEqual([1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
    expect(Array.from(v1)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
  it('rejects a config without scales', () => {
    expect(() => new AnchorGenerator({ strides: [4], ratios: [1] })).toThrow(/scales/);
  });
});

describe('DeltaXYWHBBoxCoder', () => {
  const props = [0, 0, 10, 20, 5, 5, 25, 15];
  const gts = [1, 2, 11, 18, 0, 0, 30, 30];
  it('encodes hand values (means 0, stds 0.1/0.1/0.2/0.2)', () => {
    const coder = new DeltaXYWHBBoxCoder({ target_means: [0, 0, 0, 0], target_stds: [0.1, 0.1, 0.2, 0.2] });
    // box 0: p (5,10,10,20), g (6,10,10,16): dx 0.1, dy 0, dw 0, dh log(0.8).
    const want = [0.1 / 0.1, 0, 0, Math.log(0.8) / 0.2, (15 - 15) / 20 / 0.1, (15 - 10) / 10 / 0.1, Math.log(30 / 20) / 0.2, Math.log(30 / 10) / 0.2];
    const t = coder.encode(tf.tensor2d(props, [2, 4]), tf.tensor2d(gts, [2, 4]));
    close(t.dataSync(), want, 1e-5);
    close(coder.encodeArr(props, gts), want, 1e-5);
    t.dispose();
  });
  it('round-trips encode -> decode (tensor and CPU), and decodes class-specific deltas', () => {
    const coder = new DeltaXYWHBBoxCoder({ target_stds: [0.1, 0.1, 0.2, 0.2] });
    const before = tf.memory().numTensors;
    const p = tf.tensor2d(props, [2, 4]);
    const g = tf.tensor2d(gts, [2, 4]);
    const d = coder.encode(p, g);
    const back = coder.decode(p, d);
    close(back.dataSync(), gts, 1e-4);
    close(coder.decodeArr(props, coder.encodeArr(props, gts)), gts, 1e-4);
    // Two classes: class 0 delta = 0 gives the roi back, class 1 the gt.
    const two = tf.tidy(() => tf.concat([tf.zerosLike(d), d], 1)) as tf.Tensor2D;
    const dec2 = coder.decode(p, two);
    expect(dec2.shape).toEqual([2, 8]);
    close(dec2.dataSync(), [...props.slice(0, 4), ...gts.slice(0, 4), ...props.slice(4), ...gts.slice(4)], 1e-4);
    close(coder.decodeArr(props, two.dataSync()), dec2.dataSync(), 1e-4);
    tf.dispose([p, g, d, back, two, dec2]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('clamps dw/dh to |log(16/1000)| and clips to max_shape', () => {
    const coder = new DeltaXYWHBBoxCoder({});
    const rois = [10, 10, 20, 20];
    const deltas = [0, 0, 100, -100];
    const m = Math.log(1000 / 16);
    // w = 10 * exp(4.135) = 625, h = 10 * exp(-4.135) = 0.16, centre (15, 15).
    const want = [15 - 5 * Math.exp(m), 15 - 5 * Math.exp(-m), 15 + 5 * Math.exp(m), 15 + 5 * Math.exp(-m)];
    close(coder.decodeArr(rois, deltas), want, 1e-3);
    const t = coder.decode(tf.tensor2d(rois, [1, 4]), tf.tensor2d(deltas, [1, 4]), [30, 40]);
    close(t.dataSync(), [0, want[1], 40, want[3]], 1e-3);
    close(coder.decodeArr(rois, deltas, [30, 40]), [0, want[1], 40, want[3]], 1e-3);
    t.dispose();
    expect(coder.decode(tf.zeros([0, 4]) as tf.Tensor2D, tf.zeros([0, 4]) as tf.Tensor2D).shape).toEqual([0, 4]);
  });
  it('add_ctr_clamp limits the centre shift to ctr_clamp pixels', () => {
    const coder = new DeltaXYWHBBoxCoder({ add_ctr_clamp: true, ctr_clamp: 32 });
    const out = coder.decodeArr([0, 0, 100, 100], [1, -1, 0, 0]);
    close(out, [32, -32, 132, 68], 1e-4);
  });
});

describe('mapRoiLevels (finest_scale 56)', () => {
  it('maps sqrt(area) to floor(log2(scale/56 + 1e-6)) clamped to [0, 3]', () => {
    const rois = new Float32Array([
      0, 0, 0, 10, 10, // 10 -> 0
      0, 0, 0, 111, 111, // 111 -> 0
      1, 0, 0, 112, 112, // exactly 112 -> 1 (the +1e-6 keeps log2(2) from rounding below 1)
      0, 0, 0, 224, 224, // 2
      0, 0, 0, 448, 448, // 3
      0, 0, 0, 2000, 2000, // clamped to 3
      0, 5, 5, 5, 5, // zero area -> 0
    ]);
    expect(Array.from(mapRoiLevels(rois, 4))).toEqual([0, 0, 1, 2, 3, 3, 0]);
    expect(Array.from(mapRoiLevels(new Float32Array([0, 0, 224, 224]), 4, 56, 4))).toEqual([2]);
    expect(() => mapRoiLevels(new Float32Array(7), 4)).toThrow(/multiple of 5/);
  });
});
