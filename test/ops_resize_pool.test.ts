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
      expect(() => avgPool2d(tf.zeros([1, 7, 7, 1]) as tf.Tensor4D, 8)).toThrow(/too small/);
    });
  });
}
