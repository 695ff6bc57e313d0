import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { type RoiAlignImpl, roiAlign, roiAlignPlan } from '../ops/roi_align';
import { f32, loadOpFixture, maxAbsDiff, nchwToNhwc } from './helpers/op_fixtures';

const fx = loadOpFixture('roi_align.json');

/** Runs every fixture case on `backend`: forward and the gradient of sum(output * grad_weights). */
async function checkBackend(backend: string, impl: RoiAlignImpl): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  expect(fx.cases.length).toBe(3);
  for (const c of fx.cases) {
    const [n, ch, h, w] = c.input.shape as number[];
    const K = c.rois.shape[0] as number;
    const [oh, ow] = c.params.output_size as [number, number];
    const before = tf.memory().numTensors;
    const feat = tf.tensor4d(nchwToNhwc(f32(c.input), [n, ch, h, w]), [n, h, w, ch]);
    const rois = tf.tensor2d(f32(c.rois), [K, 5]);
    const gw = tf.tensor4d(nchwToNhwc(f32(c.grad_weights), [K, ch, oh, ow]), [K, oh, ow, ch]);
    const out = roiAlign(feat, rois, [oh, ow], c.params.spatial_scale, 0, true, impl);
    expect(out.shape).toEqual([K, oh, ow, ch]);
    const want = nchwToNhwc(f32(c.output), [K, ch, oh, ow]);
    const got = out.dataSync();
    // README: float32-vs-float64 gap up to 3.1e-6 here; a port may round on the other side -> 2e-5.
    expect(maxAbsDiff(got, want), `${backend} ${impl} ${c.name} forward`).toBeLessThan(2e-5);
    // Zero-size / inverted / fully-outside rois give exactly 0 (not NaN).
    for (let k = 0; k < K; k++) {
      const kind = c.roi_kinds[k] as string;
      if (/zero|inverted|outside$|fully/.test(kind) && !/partly/.test(kind)) {
        const sl = got.subarray(k * oh * ow * ch, (k + 1) * oh * ow * ch);
        expect(Array.from(sl).every((v) => v === 0), `${c.name} roi ${k} (${kind}) must be exactly 0`).toBe(true);
      }
    }
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(roiAlign(x as tf.Tensor4D, rois, [oh, ow], c.params.spatial_scale, 0, true, impl), gw)));
    const gi = grad(feat);
    const wantG = nchwToNhwc(f32(c.grad_input), [n, ch, h, w]);
    // README: observed gap 2.3e-6, suggested atol 1e-5.
    expect(maxAbsDiff(gi.dataSync(), wantG), `${backend} ${impl} ${c.name} grad`).toBeLessThan(1e-5);
    tf.dispose([feat, rois, gw, out, gi]);
    expect(tf.memory().numTensors, `${backend} ${c.name} leaks`).toBe(before);
  }
}

describe('roiAlign vs test/fixtures/ops/roi_align.json', () => {
  for (const impl of ['cpu-kernel', 'tensor-ops'] as const) {
    it(`${impl}: matches forward and grad_input on cpu`, async () => {
      await checkBackend('cpu', impl);
    });
    it(`${impl}: matches forward and grad_input on wasm (ScatterNd accumulates duplicates there too)`, async () => {
      await checkBackend('wasm', impl);
    });
  }
  it('survives a caller tf.tidy between forward and backward; empty roi list', async () => {
    await tf.setBackend('cpu');
    const e = roiAlign(tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, tf.zeros([0, 5]) as tf.Tensor2D, [7, 7], 0.25);
    expect(e.shape).toEqual([0, 7, 7, 3]);
    e.dispose();
    const feat = tf.randomUniform([1, 8, 8, 2], -1, 1, 'float32', 1) as tf.Tensor4D;
    const rois = tf.tensor2d([[0, 4, 4, 20, 28]]);
    const v = tf.variable(feat, true, 'roi_feat_test');
    const { value, grads } = tf.variableGrads(() => {
      const r = tf.tidy(() => roiAlign(v as tf.Tensor4D, rois, [2, 2], 0.25));
      return tf.sum(r) as tf.Scalar;
    }, [v]);
    expect(Object.keys(grads)).toEqual(['roi_feat_test']);
    // Each of the 2x2 bins averages inside samples, so its weights sum to 1 per channel: 4 bins x 2 channels.
    expect(tf.sum(grads['roi_feat_test']).dataSync()[0]).toBeCloseTo(8, 5);
    tf.dispose([feat, rois, value, grads['roi_feat_test'], v]);
  });
  it('plan sample counts follow ceil(roi size / out) as in the fixture', () => {
    const c = fx.cases[0];
    const rois = f32(c.rois);
    const [n, , h, w] = c.input.shape as number[];
    const [oh, ow] = c.params.output_size as [number, number];
    for (let k = 0; k < c.rois.shape[0]; k++) {
      const [sh, sw] = c.samples_per_bin_hw[k] as [number, number];
      const plan = roiAlignPlan(rois.subarray(k * 5, k * 5 + 5), 1, [n, h, w], [oh, ow], c.params.spatial_scale);
      let sumW = 0;
      for (const v of plan.weight) sumW += v;
      // Each bin's weights sum to (#inside samples)/(n_h n_w) <= 1; zero-sample rois have all-zero weights.
      if (sh === 0 || sw === 0) expect(sumW).toBe(0);
      else expect(sumW).toBeLessThanOrEqual(oh * ow + 1e-4);
    }
  });
});
