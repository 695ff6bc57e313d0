// Our webgpu kernels (ops/webgpu/register.ts) against the cpu backend, on SwiftShader in CI: the
// filter gradients called directly as kernels (odd sizes, strides 1/2, SAME/VALID/explicit padding,
// channel multipliers, channel counts not a multiple of 4, batch > 1, several splits) and through
// tf.grad of the forward ops, plus the tfjs kernels we still use in those gradients (input
// gradients, forward convolutions) on the same shapes. Tolerance: max |webgpu - cpu| <= 1e-4 *
// max(1, max |cpu|) (float32 sums in a different order).
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { conv2DFilterGrad } from '../ops/webgpu/conv2d_filter_grad';
import { depthwiseFilterGrad } from '../ops/webgpu/depthwise_filter_grad';
import { MIN_K, matMulTransposeAWebgpu } from '../ops/webgpu/matmul_transpose_a';
import { MIN_ROWS, columnReduceWebgpu } from '../ops/webgpu/column_reduce';
import type { WebGPUBackendLike } from '../ops/webgpu/program';
import { REPLACED_WEBGPU_KERNELS, tfjsWebgpuKernel } from '../ops/webgpu/register';
import { describeWebgpu, relMaxDiff, runOn, seededValues, setupWebgpu } from './helpers/webgpu';

const gpu = await setupWebgpu();
const TOL = 1e-4;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Pair = [number, number];

interface Case {
  name: string;
  x: [number, number, number, number];
  /** [KH, KW, C, M] depth-wise, [KH, KW, CI, CO] dense. */
  filter: [number, number, number, number];
  strides: Pair;
  pad: Pad;
  dilations?: Pair;
}

const explicit = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

const DEPTHWISE: Case[] = [
  { name: '3x3 s1 same, 5 ch, batch 2', x: [2, 7, 9, 5], filter: [3, 3, 5, 1], strides: [1, 1], pad: 'same' },
  { name: '3x3 s2 valid, multiplier 2, 6 ch', x: [1, 8, 7, 6], filter: [3, 3, 6, 2], strides: [2, 2], pad: 'valid' },
  { name: '5x5 s2 explicit pad, 3 ch, batch 2', x: [2, 9, 8, 3], filter: [5, 5, 3, 1], strides: [2, 2], pad: explicit(1, 2, 2, 1) },
  { name: '7x1 (TinyViM axial), 13 ch', x: [2, 9, 6, 13], filter: [7, 1, 13, 1], strides: [1, 1], pad: explicit(3, 3, 0, 0) },
  { name: '1x7 (TinyViM axial), 13 ch', x: [1, 6, 10, 13], filter: [1, 7, 13, 1], strides: [1, 1], pad: explicit(0, 0, 3, 3) },
  { name: '1x1 depth-wise, 6 ch', x: [2, 5, 7, 6], filter: [1, 1, 6, 1], strides: [1, 1], pad: 'valid' },
  { name: '3x3 s1 same, 37 ch, many splits', x: [2, 13, 15, 37], filter: [3, 3, 37, 1], strides: [1, 1], pad: 'same' },
  { name: '3x3 s2 same, strides 2x1, 10 ch', x: [2, 11, 9, 10], filter: [3, 3, 10, 1], strides: [2, 1], pad: 'same' },
];

const DENSE: Case[] = [
  { name: '3x3 s2 same (stem), 3 -> 5', x: [2, 9, 11, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: 'same' },
  { name: '1x1 s1, 70 -> 67 (several tiles)', x: [2, 6, 7, 70], filter: [1, 1, 70, 67], strides: [1, 1], pad: 'valid' },
  { name: '3x3 s2 explicit pad 1 (down-sampling), 7 -> 9', x: [1, 10, 9, 7], filter: [3, 3, 7, 9], strides: [2, 2], pad: explicit(1, 1, 1, 1) },
  { name: '5x5 s2 valid, odd', x: [2, 13, 11, 5], filter: [5, 5, 5, 6], strides: [2, 2], pad: 'valid' },
  { name: '2x3 strides 1x2 explicit asymmetric', x: [2, 8, 9, 6], filter: [2, 3, 6, 7], strides: [1, 2], pad: explicit(0, 1, 2, 0) },
  { name: '3x3 s1 same, many positions (many splits)', x: [2, 14, 15, 4], filter: [3, 3, 4, 8], strides: [1, 1], pad: 'same' },
];

function inputs(c: Case, depthwise: boolean) {
  const x = seededValues(c.x.reduce((a, b) => a * b), 7);
  const w = seededValues(c.filter.reduce((a, b) => a * b), 11);
  const probe = () => {
    const y = depthwise
      ? tf.depthwiseConv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad, 'NHWC', c.dilations ?? 1)
      : tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, c.filter), c.strides, c.pad, 'NHWC', c.dilations ?? 1);
    return y.shape;
  };
  return { x, w, dyShape: tf.tidy(probe) };
}

/** Both backends' results of fn, compared. */
async function expectSame(what: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const ref = await runOn('cpu', fn);
  const got = await runOn('webgpu', fn);
  expect(got.length).toBe(ref.length);
  got.forEach((g, i) => {
    expect(g.length, `${what} [${i}] size`).toBe(ref[i].length);
    expect(relMaxDiff(g, ref[i]), `${what} [${i}]`).toBeLessThanOrEqual(TOL);
  });
}

describeWebgpu(gpu, 'webgpu kernels vs cpu', () => {
  it('registers our kernels for the replaced names', () => {
    for (const name of REPLACED_WEBGPU_KERNELS) expect(tfjsWebgpuKernel(name), name).toBeDefined();
  });

  for (const c of DEPTHWISE) {
    it(`DepthwiseConv2dNativeBackpropFilter: ${c.name}`, async () => {
      const { x, dyShape } = inputs(c, true);
      const dy = seededValues(dyShape.reduce((a, b) => a * b), 3);
      await expectSame(c.name, () =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, c.x), dy: tf.tensor(dy, dyShape) }, {
          strides: c.strides,
          dilations: [1, 1],
          pad: c.pad,
          filterShape: c.filter,
        }) as tf.Tensor,
      );
    });
  }

  for (const c of DENSE) {
    it(`Conv2DBackpropFilter: ${c.name}`, async () => {
      const { x, dyShape } = inputs(c, false);
      const dy = seededValues(dyShape.reduce((a, b) => a * b), 3);
      await expectSame(c.name, () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, c.x), dy: tf.tensor(dy, dyShape) }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.filter,
        }) as tf.Tensor,
      );
    });
  }

  it('filter gradients with long chunks (2 target workgroups: many steps per split, several lanes per invocation)', async () => {
    const xShape: [number, number, number, number] = [2, 12, 13, 19];
    const x = seededValues(xShape.reduce((a, b) => a * b), 4);
    const dense = tf.backend_util.computeConv2DInfo(xShape, [3, 3, 19, 21], [2, 2], 1, 'same');
    const dw = tf.backend_util.computeConv2DInfo(xShape, [3, 3, 19, 2], [1, 1], 1, 'same', undefined, true);
    const dyDense = seededValues(dense.outShape.reduce((a, b) => a * b), 6);
    const dyDw = seededValues(dw.outShape.reduce((a, b) => a * b), 8);
    const ref = await runOn('cpu', () => [
      tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(x, xShape), dy: tf.tensor(dyDense, dense.outShape) }, { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 19, 21] }) as tf.Tensor,
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, xShape), dy: tf.tensor(dyDw, dw.outShape) }, { strides: [1, 1], dilations: [1, 1], pad: 'same', filterShape: [3, 3, 19, 2] }) as tf.Tensor,
    ]);
    const got = await runOn('webgpu', () => {
      const be = tf.backend() as unknown as WebGPUBackendLike;
      const asTensor = (t: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(t);
      return [
        asTensor(conv2DFilterGrad(be, tf.tensor4d(x, xShape), tf.tensor(dyDense, dense.outShape), dense, 2)),
        asTensor(depthwiseFilterGrad(be, tf.tensor4d(x, xShape), tf.tensor(dyDw, dw.outShape), dw, 2)),
      ];
    });
    expect(relMaxDiff(got[0], ref[0]), 'Conv2DBackpropFilter').toBeLessThanOrEqual(TOL);
    expect(relMaxDiff(got[1], ref[1]), 'DepthwiseConv2dNativeBackpropFilter').toBeLessThanOrEqual(TOL);
  });

  it('DepthwiseConv2dNativeBackpropFilter with dilation 2 matches the definition', async () => {
    // The cpu kernel ignores dilations (tfjs's gradients never pass them), so the reference is the
    // formula itself: dW[kh,kw,c] = sum x[n, oh*s - pad + kh*d, ow*s - pad + kw*d, c] * dy[n,oh,ow,c].
    const [N, H, W, C] = [2, 9, 8, 5];
    const [K, d, pad] = [3, 2, 2];
    const [OH, OW] = [H + 2 * pad - d * (K - 1), W + 2 * pad - d * (K - 1)];
    const x = seededValues(N * H * W * C, 5);
    const dy = seededValues(N * OH * OW * C, 9);
    const ref = new Float32Array(K * K * C);
    for (let kh = 0; kh < K; kh++)
      for (let kw = 0; kw < K; kw++)
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let n = 0; n < N; n++)
            for (let oh = 0; oh < OH; oh++)
              for (let ow = 0; ow < OW; ow++) {
                const ih = oh - pad + kh * d;
                const iw = ow - pad + kw * d;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += x[((n * H + ih) * W + iw) * C + c] * dy[((n * OH + oh) * OW + ow) * C + c];
              }
          ref[(kh * K + kw) * C + c] = s;
        }
    const [got] = await runOn('webgpu', () =>
      tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor4d(x, [N, H, W, C]), dy: tf.tensor4d(dy, [N, OH, OW, C]) }, {
        strides: [1, 1],
        dilations: [d, d],
        pad: explicit(pad, pad, pad, pad),
        filterShape: [K, K, C, 1],
      }) as tf.Tensor,
    );
    expect(relMaxDiff(got, ref)).toBeLessThanOrEqual(TOL);
  });

  // Gradients through the forward ops: filter gradients from our kernels, input gradients and
  // forward outputs from tfjs's (checked here so a wrong tfjs path would show).
  for (const c of DEPTHWISE.slice(0, 6)) {
    it(`depthwiseConv2d forward and gradients: ${c.name}`, async () => {
      const { x, w, dyShape } = inputs(c, true);
      const dy = seededValues(dyShape.reduce((a, b) => a * b), 3);
      await expectSame(c.name, () => {
        const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.mul(tf.depthwiseConv2d(xx, ww, c.strides, c.pad), tf.tensor(dy, dyShape));
        const xs = tf.tensor4d(x, c.x);
        const ws = tf.tensor4d(w, c.filter);
        const [gx, gw] = tf.grads((a, b) => tf.sum(f(a as tf.Tensor4D, b as tf.Tensor4D)))([xs, ws]);
        return [tf.depthwiseConv2d(xs, ws, c.strides, c.pad), gx, gw];
      });
    });
  }

  for (const c of DENSE.slice(0, 5)) {
    it(`conv2d forward and gradients: ${c.name}`, async () => {
      const { x, w, dyShape } = inputs(c, false);
      const dy = seededValues(dyShape.reduce((a, b) => a * b), 3);
      await expectSame(c.name, () => {
        const xs = tf.tensor4d(x, c.x);
        const ws = tf.tensor4d(w, c.filter);
        const [gx, gw] = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), tf.tensor(dy, dyShape))))([xs, ws]);
        return [tf.conv2d(xs, ws, c.strides, c.pad), gx, gw];
      });
    });
  }

  const MATMULS: { name: string; a: number[]; b: number[] }[] = [
    { name: 'K 2100, 66 x 65 (several tiles and splits)', a: [2100, 66], b: [2100, 65] },
    { name: 'rank 3, batch 1, K 2100, 9 x 5', a: [1, 2100, 9], b: [1, 2100, 5] },
    { name: `K below ${MIN_K} (tfjs's kernel)`, a: [100, 7], b: [100, 6] },
  ];
  for (const c of MATMULS) {
    it(`BatchMatMul transposeA: ${c.name}`, async () => {
      const a = seededValues(c.a.reduce((x, y) => x * y), 12);
      const b = seededValues(c.b.reduce((x, y) => x * y), 13);
      await expectSame(c.name, () => tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), true, false));
    });
  }

  it('matMul weight gradient (aᵀ·dy, K 2200) and input gradient', async () => {
    const x = seededValues(2200 * 6, 14);
    const w = seededValues(6 * 10, 15);
    const dy = seededValues(2200 * 10, 16);
    await expectSame('matMul grads', () => {
      const [gx, gw] = tf.grads((xx, ww) => tf.sum(tf.mul(tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D), tf.tensor2d(dy, [2200, 10]))))([
        tf.tensor2d(x, [2200, 6]),
        tf.tensor2d(w, [6, 10]),
      ]);
      return [gx, gw];
    });
  });

  it('BatchMatMul transposeA with long chunks (1 target workgroup)', async () => {
    const a = seededValues(2300 * 5, 17);
    const b = seededValues(2300 * 4, 18);
    const [ref] = await runOn('cpu', () => tf.matMul(tf.tensor2d(a, [2300, 5]), tf.tensor2d(b, [2300, 4]), true, false));
    const [got] = await runOn('webgpu', () =>
      tf.engine().makeTensorFromTensorInfo(
        matMulTransposeAWebgpu({ inputs: { a: tf.tensor2d(a, [2300, 5]), b: tf.tensor2d(b, [2300, 4]) }, backend: tf.backend(), attrs: { transposeA: true, transposeB: false } }, 1),
      ),
    );
    expect(relMaxDiff(got, ref)).toBeLessThanOrEqual(TOL);
  });

  for (const c of DENSE.slice(0, 5)) {
    it(`Conv2DBackpropInput (tfjs's implicit-GEMM path): ${c.name}`, async () => {
      expect(tf.env().getBool('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE')).toBe(false);
      const { w, dyShape } = inputs(c, false);
      const dy = seededValues(dyShape.reduce((a, b) => a * b), 3);
      await expectSame(c.name, () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor4d(w, c.filter) }, {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        }) as tf.Tensor,
      );
    });
  }

  const REDUCTIONS: { name: string; shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { name: 'NHWC [2,13,11,37] over N,H,W', shape: [2, 13, 11, 37], axis: [0, 1, 2], keepDims: false },
    { name: 'NHWC [1,17,19,5] over N,H,W, keepDims', shape: [1, 17, 19, 5], axis: [0, 1, 2], keepDims: true },
    { name: '[300, 70] over axis 0 (several tiles)', shape: [300, 70], axis: [0], keepDims: false },
    { name: `[2,5,7,3] (fewer than ${MIN_ROWS} rows: tfjs's kernel)`, shape: [2, 5, 7, 3], axis: [0, 1, 2], keepDims: false },
    { name: '[2,9,10,6] over H,W only (tfjs\'s kernel)', shape: [2, 9, 10, 6], axis: [1, 2], keepDims: false },
  ];
  for (const c of REDUCTIONS) {
    it(`Sum and Mean: ${c.name}`, async () => {
      const x = seededValues(c.shape.reduce((a, b) => a * b), 19);
      await expectSame(c.name, () => {
        const t = tf.tensor(x, c.shape);
        return [tf.sum(t, c.axis, c.keepDims), tf.mean(t, c.axis, c.keepDims), tf.moments(t, c.axis).variance];
      });
    });
  }

  const FULL: { name: string; shape: number[]; keepDims: boolean }[] = [
    { name: '[2,13,11,37] (view [5291, 2])', shape: [2, 13, 11, 37], keepDims: false },
    { name: '[4099] (odd size: view [4099, 1]), keepDims', shape: [4099], keepDims: true },
    { name: '[2,16,16,32] (view [256, 64]), keepDims', shape: [2, 16, 16, 32], keepDims: true },
    { name: '[3,50,64] (150 rows of 64: tfjs kernel)', shape: [3, 50, 64], keepDims: false },
  ];
  for (const c of FULL) {
    it(`Sum and Mean to a scalar: ${c.name}`, async () => {
      const x = seededValues(c.shape.reduce((a, b) => a * b), 23);
      await expectSame(c.name, () => {
        const t = tf.tensor(x, c.shape);
        const outs = [tf.sum(t, undefined, c.keepDims), tf.mean(t, undefined, c.keepDims)];
        expect(outs[0].shape).toEqual(c.keepDims ? c.shape.map(() => 1) : []);
        return outs;
      });
    });
  }

  it('Sum/Mean of a bool tensor cast to float32 (tfjs keeps the bool buffer: shader reads i32), per channel and to a scalar', async () => {
    // Semantic FPN's loss counts valid pixels this way; before the f32() read, the shader failed to
    // compile on the H200 ("no matching overload for operator + (f32, i32)") and its submit was dropped.
    const shape = [2, 16, 20, 3];
    const x = seededValues(shape.reduce((a, b) => a * b), 29);
    await expectSame('cast bool', () => {
      const m = tf.cast(tf.greater(tf.tensor(x, shape), 0), 'float32');
      return [tf.sum(m), tf.mean(m), tf.sum(m, [0, 1, 2])];
    });
  });

  it('per-channel sum with long chunks (1 target workgroup) and the BN-parameter gradient path', async () => {
    const shape = [2, 16, 15, 7];
    const x = seededValues(shape.reduce((a, b) => a * b), 21);
    const [ref] = await runOn('cpu', () => tf.sum(tf.tensor(x, shape), [0, 1, 2]));
    const [got] = await runOn('webgpu', () =>
      tf.engine().makeTensorFromTensorInfo(columnReduceWebgpu({ inputs: { x: tf.tensor(x, shape) }, backend: tf.backend(), attrs: { axis: [0, 1, 2], keepDims: false } }, false, 1)),
    );
    expect(relMaxDiff(got, ref)).toBeLessThanOrEqual(TOL);
    // A bias added over NHWC: its gradient is the per-channel sum of dy.
    const bias = seededValues(7, 22);
    await expectSame('bias grad', () => tf.grad((b) => tf.sum(tf.mul(tf.add(tf.tensor(x, shape), b), tf.tensor(x, shape))))(tf.tensor1d(bias)));
  });

  it('depthwiseConv2d forward with dilation 2', async () => {
    const x = seededValues(2 * 10 * 11 * 7, 1);
    const w = seededValues(3 * 3 * 7, 2);
    await expectSame('dilated depthwise', () => tf.depthwiseConv2d(tf.tensor4d(x, [2, 10, 11, 7]), tf.tensor4d(w, [3, 3, 7, 1]), 1, 'same', 'NHWC', 2));
  });
});
