import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { avgPool2d } from '../ops/pool';
import { interpolate, torchNearestIndices } from '../ops/resize';
import { f32, loadOpFixture, maxAbsDiff, nchwToNhwc } from './helpers/op_fixtures';

const interp = loadOpFixture('interpolate.json');
const pool = loadOpFixture('avg_pool.json');

function toNhwc(t: { shape: number[]; data: (number | string)[] }): tf.Tensor4D {
  const [n, c, h, w] = t.shape;
  return tf.tensor4d(nchwToNhwc(f32(t), t.shape), [n, h, w, c]);
}

for (const backend of ['cpu', 'wasm']) {
  describe(`interpolate / avgPool2d vs fixtures on ${backend}`, () => {
    it('F.interpolate bilinear (atol 5e-6) and nearest (exact), with PyTorch nearest indices', async () => {
      await tf.setBackend(backend);
      expect(interp.cases.length).toBe(14);
      for (const c of interp.cases) {
        const call = c.call as string;
        const mode = call.includes("'bilinear'") ? 'bilinear' : 'nearest';
        const sf = /scale_factor=(\d+)/.exec(call);
        const sz = /size=\((\d+), (\d+)\)/.exec(call);
        const x = toNhwc(c.input);
        const y = interpolate(x, sf ? { scaleFactor: Number(sf[1]) } : { size: [Number(sz![1]), Number(sz![2])] }, mode);
        const want = nchwToNhwc(f32(c.output), c.output.shape);
        expect(y.shape).toEqual([c.output.shape[0], c.output.shape[2], c.output.shape[3], c.output.shape[1]]);
        const d = maxAbsDiff(y.dataSync(), want);
        if (mode === 'bilinear') expect(d, c.name).toBeLessThan(5e-6);
        else {
          expect(d, c.name).toBe(0);
          const [, , ih, iw] = c.input.shape;
          const [, , oh, ow] = c.output.shape;
          expect(Array.from(torchNearestIndices(ih, oh)), c.name).toEqual(c.source_row_per_output_row);
          expect(Array.from(torchNearestIndices(iw, ow)), c.name).toEqual(c.source_col_per_output_col);
        }
        tf.dispose([x, y]);
      }
    });
    it('nearest where PyTorch float32 indices differ from tfjs (2 -> 82): gather path, with gradient', async () => {
      await tf.setBackend(backend);
      const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
      const y = interpolate(x, { size: [82, 2] }, 'nearest');
      const col = Array.from(y.dataSync()).filter((_, i) => i % 2 === 0);
      const want = Array.from(torchNearestIndices(2, 82), (r) => [1, 3][r]);
      expect(col).toEqual(want);
      expect(col[41]).toBe(1); // PyTorch keeps row 0 at dst 41 (float32 scale rounds below 1/2)
      const g = tf.grad((t: tf.Tensor) => tf.sum(interpolate(t as tf.Tensor4D, { size: [82, 2] }, 'nearest')))(x);
      const rows0 = want.filter((v) => v === 1).length;
      expect(Array.from(g.dataSync())).toEqual([rows0, rows0, 82 - rows0, 82 - rows0]);
      tf.dispose([x, y, g]);
    });
    it('nn.AvgPool2d floor and ceil mode (atol 5e-7)', async () => {
      await tf.setBackend(backend);
      expect(pool.cases.length).toBe(6);
      for (const c of pool.cases) {
        const k = Number(/AvgPool2d\((\d+)/.exec(c.call)![1]);
        const ceil = c.call.includes('ceil_mode=True');
        const x = toNhwc(c.input);
        const y = avgPool2d(x, k, k, ceil);
        const want = nchwToNhwc(f32(c.output), c.output.shape);
        expect(y.shape).toEqual([1, c.output.shape[2], c.output.shape[3], c.output.shape[1]]);
        expect(maxAbsDiff(y.dataSync(), want), c.name).toBeLessThan(5e-7);
        tf.dispose([x, y]);
      }
      expect(() => avgPool2d(tf.zeros([1, 7, 7, 1]) as tf.Tensor4D, 8)).toThrow(
        'avgPool2d: given input size (1x7x7), calculated output size (1x0x0): output size is too small (kernel 8, stride 8, ceil_mode False, as torch.nn.AvgPool2d)',
      );
    });
    it('nn.AvgPool2d ceil_mode with a window larger than the input gives one cell per side (in-bounds mean)', async () => {
      await tf.setBackend(backend);
      // PyTorch: out = floor((3 - 4 + 3) / 4) + 1 = 1 rows; cols floor((5 - 4 + 3) / 4) + 1 = 2, last window starts at 4 < 5.
      const v = Array.from({ length: 15 }, (_, i) => i + 1);
      const x = tf.tensor4d(v, [1, 3, 5, 1]);
      const y = avgPool2d(x, 4, 4, true);
      expect(y.shape).toEqual([1, 1, 2, 1]);
      const mean = (a: number[]) => a.reduce((p, q) => p + q, 0) / a.length;
      const cell0 = [0, 1, 2].flatMap((r) => v.slice(r * 5, r * 5 + 4));
      const cell1 = [0, 1, 2].map((r) => v[r * 5 + 4]);
      const got = Array.from(y.dataSync());
      expect(got[0]).toBeCloseTo(mean(cell0), 5);
      expect(got[1]).toBeCloseTo(mean(cell1), 5);
      expect(avgPool2d(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, 8, 8, true).shape).toEqual([1, 1, 1, 3]);
      tf.dispose([x, y]);
    });
    it('bilinear at odd down- and up-scales equals PyTorch float32 indices/weights (|d| <= 2e-6)', async () => {
      await tf.setBackend(backend);
      // Reference: aten upsample_bilinear2d CPU rule, evaluated here in float32 (width first, then height).
      const fr = Math.fround;
      const axis = (n: number, m: number) => {
        const sc = fr(n / m);
        return Array.from({ length: m }, (_, d) => {
          const src = Math.max(0, fr(fr(fr(d + 0.5) * sc) - 0.5));
          const i0 = Math.min(Math.floor(src), n - 1);
          const l1 = fr(src - i0);
          return { i0, i1: i0 < n - 1 ? i0 + 1 : i0, l0: fr(1 - l1), l1 };
        });
      };
      for (const [h, w, oh, ow] of [[37, 53, 13, 19], [13, 19, 37, 53], [61, 93, 29, 31], [7, 5, 7, 11]]) {
        const data = Float32Array.from({ length: h * w * 2 }, (_, i) => Math.sin(i * 0.37) * 10);
        const x = tf.tensor4d(data, [1, h, w, 2]);
        const y = interpolate(x, { size: [oh, ow] }, 'bilinear');
        const ay = axis(h, oh);
        const ax = axis(w, ow);
        const want = new Float32Array(oh * ow * 2);
        const at = (r: number, c: number, ch: number) => data[(r * w + c) * 2 + ch];
        for (let r = 0; r < oh; r++)
          for (let c = 0; c < ow; c++)
            for (let ch = 0; ch < 2; ch++) {
              const row = (rr: number) => fr(fr(at(rr, ax[c].i0, ch) * ax[c].l0) + fr(at(rr, ax[c].i1, ch) * ax[c].l1));
              want[(r * ow + c) * 2 + ch] = fr(fr(row(ay[r].i0) * ay[r].l0) + fr(row(ay[r].i1) * ay[r].l1));
            }
        expect(maxAbsDiff(y.dataSync(), want), `${h}x${w} -> ${oh}x${ow}`).toBeLessThanOrEqual(2e-6);
        tf.dispose([x, y]);
      }
    });
  });
}
