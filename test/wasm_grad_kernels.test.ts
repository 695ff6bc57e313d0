// The gradient kernels added to the wasm backend, compared with the cpu backend's.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmGradKernels } from '../ops/wasm_grad_kernels';

beforeAll(async () => {
  registerWasmGradKernels();
  await tf.setBackend('wasm');
  await tf.ready();
});

function rand(shape: number[], seed: number): tf.Tensor {
  let a = seed >>> 0;
  const n = shape.reduce((x, y) => x * y, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a * 1664525 + 1013904223) >>> 0;
    v[i] = a / 2 ** 32 - 0.5;
  }
  return tf.tensor(v, shape);
}

type Pad = 'same' | 'valid' | number | [[0, 0], [number, number], [number, number], [0, 0]];

/** Runs `kernel` on each backend with the same inputs; returns [cpu, wasm] values. */
async function onBoth(kernel: string, inputs: Record<string, () => tf.Tensor>, attrs: Record<string, unknown>): Promise<[Float32Array, Float32Array, number[]]> {
  const out: Float32Array[] = [];
  let shape: number[] = [];
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const ins = Object.fromEntries(Object.entries(inputs).map(([k, f]) => [k, f()]));
    const y = tf.engine().runKernel(kernel, ins, attrs as never) as tf.Tensor;
    out.push(Float32Array.from(await y.data()));
    shape = y.shape;
    tf.dispose([y, ...Object.values(ins)]);
  }
  return [out[0], out[1], shape];
}

function expectClose(a: Float32Array, b: Float32Array, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  const scale = Math.max(1, ...Array.from(a, Math.abs));
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst / scale).toBeLessThan(tol);
}

function outSize(inSize: number, k: number, s: number, d: number, pad: Pad, axis: 1 | 2): number {
  const ke = (k - 1) * d + 1;
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - ke + 1) / s);
  const [p0, p1] = typeof pad === 'number' ? [pad, pad] : pad[axis];
  return Math.floor((inSize + p0 + p1 - ke) / s) + 1;
}

const CASES: { x: number[]; k: [number, number]; s: [number, number]; d: [number, number]; pad: Pad }[] = [
  { x: [2, 9, 8, 3], k: [3, 3], s: [1, 1], d: [1, 1], pad: 'same' },
  { x: [2, 9, 8, 3], k: [3, 3], s: [2, 2], d: [1, 1], pad: 'same' },
  { x: [1, 10, 11, 4], k: [3, 3], s: [2, 1], d: [1, 1], pad: 'valid' },
  { x: [2, 7, 7, 5], k: [1, 1], s: [1, 1], d: [1, 1], pad: 'valid' },
  { x: [1, 12, 12, 3], k: [5, 5], s: [2, 2], d: [1, 1], pad: 2 },
  { x: [1, 11, 9, 2], k: [3, 2], s: [1, 2], d: [1, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [1, 13, 13, 4], k: [7, 7], s: [4, 4], d: [1, 1], pad: 3 },
];
const DILATED = [
  { x: [1, 12, 10, 3], k: [3, 3], s: [1, 1], d: [2, 2], pad: 'same' as Pad },
  { x: [2, 14, 14, 2], k: [3, 3], s: [1, 1], d: [3, 2], pad: 'valid' as Pad },
];

describe('wasm Conv2DBackpropFilter vs cpu', () => {
  for (const [i, c] of CASES.entries()) {
    it(`case ${i}: x [${c.x}] k ${c.k} s ${c.s} pad ${JSON.stringify(c.pad)}`, async () => {
      const co = 6;
      const oh = outSize(c.x[1], c.k[0], c.s[0], 1, c.pad, 1);
      const ow = outSize(c.x[2], c.k[1], c.s[1], 1, c.pad, 2);
      const [cpu, wasm, shape] = await onBoth('Conv2DBackpropFilter', { x: () => rand(c.x, 1 + i), dy: () => rand([c.x[0], oh, ow, co], 7 + i) }, {
        strides: c.s,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: [c.k[0], c.k[1], c.x[3], co],
      });
      expect(shape).toEqual([c.k[0], c.k[1], c.x[3], co]);
      expectClose(cpu, wasm);
    });
  }
});

describe('wasm depth-wise backprop kernels vs cpu', () => {
  for (const [i, c] of CASES.entries()) {
    for (const m of [1, 2]) {
      it(`case ${i} multiplier ${m}: x [${c.x}] k ${c.k} s ${c.s} d ${c.d} pad ${JSON.stringify(c.pad)}`, async () => {
        const ch = c.x[3];
        const oh = outSize(c.x[1], c.k[0], c.s[0], c.d[0], c.pad, 1);
        const ow = outSize(c.x[2], c.k[1], c.s[1], c.d[1], c.pad, 2);
        const attrs = { strides: c.s, dilations: c.d, pad: c.pad };
        const dy = () => rand([c.x[0], oh, ow, ch * m], 11 + i);
        const [fc, fw, fshape] = await onBoth('DepthwiseConv2dNativeBackpropFilter', { x: () => rand(c.x, 3 + i), dy }, { ...attrs, filterShape: [c.k[0], c.k[1], ch, m] });
        expect(fshape).toEqual([c.k[0], c.k[1], ch, m]);
        expectClose(fc, fw);
        const [ic, iw, ishape] = await onBoth('DepthwiseConv2dNativeBackpropInput', { dy, filter: () => rand([c.k[0], c.k[1], ch, m], 5 + i) }, { ...attrs, inputShape: c.x });
        expect(ishape).toEqual(c.x);
        expectClose(ic, iw);
      });
    }
  }
});

// The cpu kernels ignore dilations, so dilated cases are checked against the cpu kernels run on the
// equivalent undilated problem: the filter spread out with zeros, dilation 1.
describe('wasm depth-wise backprop kernels with dilation', () => {
  for (const [i, c] of DILATED.entries()) {
    it(`x [${c.x}] k ${c.k} d ${c.d} pad ${JSON.stringify(c.pad)}`, async () => {
      const ch = c.x[3];
      const m = 2;
      const ke = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1];
      const oh = outSize(c.x[1], c.k[0], 1, c.d[0], c.pad, 1);
      const ow = outSize(c.x[2], c.k[1], 1, c.d[1], c.pad, 2);
      const x = rand(c.x, 21 + i);
      const dy = rand([c.x[0], oh, ow, ch * m], 31 + i);
      const w = rand([c.k[0], c.k[1], ch, m], 41 + i);
      await tf.setBackend('cpu');
      const fullF = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, dilations: 1, pad: c.pad, filterShape: [ke[0], ke[1], ch, m] } as never) as tf.Tensor;
      const wantF = tf.stridedSlice(fullF, [0, 0, 0, 0], fullF.shape, [c.d[0], c.d[1], 1, 1]);
      const wSpread = tf.tidy(() => {
        const wv = w.arraySync() as number[][][][];
        const out = tf.buffer([ke[0], ke[1], ch, m]);
        for (let a = 0; a < c.k[0]; a++) for (let b = 0; b < c.k[1]; b++) for (let q = 0; q < ch; q++) for (let r = 0; r < m; r++) out.set(wv[a][b][q][r], a * c.d[0], b * c.d[1], q, r);
        return out.toTensor();
      });
      const wantI = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: wSpread }, { strides: 1, dilations: 1, pad: c.pad, inputShape: c.x } as never) as tf.Tensor;
      const [wf, wi] = [Float32Array.from(wantF.dataSync()), Float32Array.from(wantI.dataSync())];
      await tf.setBackend('wasm');
      const attrs = { strides: 1, dilations: c.d, pad: c.pad };
      const gotF = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: [c.k[0], c.k[1], ch, m] } as never) as tf.Tensor;
      const gotI = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x } as never) as tf.Tensor;
      expect(gotF.shape).toEqual([c.k[0], c.k[1], ch, m]);
      expectClose(wf, Float32Array.from(gotF.dataSync()));
      expectClose(wi, Float32Array.from(gotI.dataSync()));
      tf.dispose([x, dy, w, fullF, wantF, wSpread, wantI, gotF, gotI]);
    });
  }
});

describe('wasm training support', () => {
  it('UnsortedSegmentSum (gather gradient) matches cpu', async () => {
    const ids = () => tf.tensor1d([2, 0, 2, 5, 1, 0], 'int32');
    const [c, w, shape] = await onBoth('UnsortedSegmentSum', { x: () => rand([6, 3, 2], 4), segmentIds: ids }, { numSegments: 7 });
    expect(shape).toEqual([7, 3, 2]);
    expectClose(c, w, 1e-6);
  });

  it('gradients of a conv + depth-wise + matMul + gather net agree between wasm and cpu', async () => {
    const grads: Float32Array[][] = [];
    for (const be of ['cpu', 'wasm']) {
      await tf.setBackend(be);
      const x = rand([2, 10, 10, 3], 1);
      const w1 = rand([3, 3, 3, 8], 2);
      const w2 = rand([3, 3, 8, 1], 3);
      const w3 = rand([8, 5], 4);
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const h = tf.relu(tf.conv2d(x as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'));
        const d = tf.depthwiseConv2d(h, b as tf.Tensor4D, 1, 'same');
        const p = tf.reshape(tf.mean(d, [1, 2]), [2, 8]);
        const logits = tf.matMul(p, c as tf.Tensor2D);
        return tf.sum(tf.square(tf.gather(logits, tf.tensor1d([1, 0, 1], 'int32'))));
      };
      const g = tf.grads(f)([w1, w2, w3]);
      grads.push(await Promise.all(g.map(async (t) => Float32Array.from(await t.data()))));
      tf.dispose([x, w1, w2, w3, ...g]);
    }
    grads[0].forEach((g, i) => expectClose(g, grads[1][i], 1e-4));
  });

  it('matMul gradient with transpose flags (explicit transposes on wasm) matches cpu', async () => {
    const res: Float32Array[][] = [];
    for (const be of ['cpu', 'wasm']) {
      await tf.setBackend(be);
      const out: Float32Array[] = [];
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        const a = rand(ta ? [2, 4, 3] : [2, 3, 4], 8);
        const b = rand(tb ? [5, 4] : [4, 5], 9);
        const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, ta, tb), rand([2, 3, 5], 10))))([a, b]);
        for (const t of g) out.push(Float32Array.from(await t.data()));
        expect(g[0].shape).toEqual(a.shape);
        expect(g[1].shape).toEqual(b.shape);
        tf.dispose([a, b, ...g]);
      }
      res.push(out);
    }
    res[0].forEach((g, i) => expectClose(g, res[1][i], 1e-5));
  });
});
