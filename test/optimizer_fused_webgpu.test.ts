// The fused optimizer update's WGSL (ops/webgpu/optimizer_update_webgpu.ts) on the webgpu backend
// (SwiftShader here): K steps of the fused in-place update against the op-by-op formula on cpu, for
// AdamW and every SGD variant, parameters and state. Tolerance: a few float32 ulps (GPU compilers may
// contract a*b+c into one fma; each step's result then differs from the op path in the last bit at
// most); the measured worst case is printed. Also: one dispatch per parameter and no host uploads
// per step.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { AdamW, type Optimizer, SGD } from '../engine/optimizers';
import type { ParamEntry } from '../engine/param_groups';
import { countStep } from '../tools/lib/profile';
import { describeWebgpu, setupWebgpu } from './helpers/webgpu';

const setup = await setupWebgpu();

function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

// 1031 elements: more than one workgroup of 256, not a multiple of it.
const SHAPES: number[][] = [[3, 5], [1031], [2, 3, 3, 4]];

function makeParams(): ParamEntry[] {
  return SHAPES.map((shape, i) => {
    const init = tf.tensor(values(tf.util.sizeFromShape(shape), 11 + i), shape);
    const variable = tf.variable(init, true, `wg_p${i}_${Math.random()}`);
    init.dispose();
    return { name: `p${i}`, variable, layout: 'plain' as const, baseLr: 0.01 * (i + 1), weightDecay: i % 2 ? 0 : 0.05 };
  });
}

const gradsAt = (step: number): Record<string, tf.Tensor> =>
  Object.fromEntries(SHAPES.map((shape, i) => [`p${i}`, tf.tensor(values(tf.util.sizeFromShape(shape), 1000 * step + i, 0.5 + step), shape)]));

/** Distance in float32 ulps (ordered-integer difference). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const [x, y] = Array.from(new Int32Array(f.buffer)).map((i) => (i < 0 ? -2147483648 - i : i));
  return Math.abs(x - y);
}

async function run(backend: 'cpu' | 'webgpu', make: (p: ParamEntry[], fused: boolean) => Optimizer, fused: boolean, steps: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const params = makeParams();
  const opt = make(params, fused);
  for (let s = 0; s < steps; s++) {
    const g = gradsAt(s);
    opt.step(g, params.map((p) => p.baseLr));
    tf.dispose(Object.values(g));
  }
  const out = await Promise.all([...params.map((p) => p.variable), ...opt.stateEntries().map(([, , v]) => v)].map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
  opt.dispose();
  params.forEach((p) => p.variable.dispose());
  return out;
}

const CASES: [string, (p: ParamEntry[], fused: boolean) => Optimizer][] = [
  ['AdamW', (p, fused) => new AdamW(p, [0.9, 0.999], 1e-8, { fused })],
  ['SGD plain', (p, fused) => new SGD(p, 0, 0, false, { fused })],
  ['SGD momentum 0.9 dampening 0.1', (p, fused) => new SGD(p, 0.9, 0.1, false, { fused })],
  ['SGD nesterov', (p, fused) => new SGD(p, 0.9, 0, true, { fused })],
];

describeWebgpu(setup, 'fused optimizer update on webgpu', () => {
  beforeAll(async () => {
    await tf.setBackend('webgpu');
  });

  for (const [name, make] of CASES) {
    it(`${name}: 4 fused steps on webgpu = op-by-op steps on cpu within 4 ulps`, async () => {
      const ref = await run('cpu', make, false, 4);
      const got = await run('webgpu', make, true, 4);
      expect(got.length).toBe(ref.length);
      let worst = 0;
      ref.forEach((r, i) => {
        expect(got[i].length).toBe(r.length);
        for (let j = 0; j < r.length; j++) worst = Math.max(worst, ulps(r[j], got[i][j]));
      });
      console.log(`${name}: worst difference fused webgpu vs op-by-op cpu after 4 steps: ${worst} ulp`);
      expect(worst).toBeLessThanOrEqual(4);
    });
  }

  it('under tf.profile: same numbers, reported as one kernel call (GPU-timed where timestamp queries exist)', async () => {
    const plain = await run('webgpu', CASES[0][1], true, 2);
    await tf.setBackend('webgpu');
    const params = makeParams();
    const opt = new AdamW(params, [0.9, 0.999], 1e-8, { fused: true });
    const g0 = gradsAt(0);
    opt.step(g0, params.map((p) => p.baseLr));
    const g1 = gradsAt(1);
    const info = await tf.profile(() => opt.step(g1, params.map((p) => p.baseLr)));
    const fusedCalls = info.kernels.filter((k) => k.name === 'TvdFusedAdamW');
    expect(fusedCalls.length).toBe(1);
    const timestamps = (tf.backend() as unknown as { supportTimestampQuery?: boolean }).supportTimestampQuery;
    console.log(`profiled fused AdamW: ${fusedCalls[0].kernelTimeMs} ms (timestamp-query ${timestamps}), extraInfo '${fusedCalls[0].extraInfo}'`);
    const got = await Promise.all([...params.map((p) => p.variable), ...opt.stateEntries().map(([, , v]) => v)].map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
    got.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(plain[i])));
    tf.dispose([...Object.values(g0), ...Object.values(g1)]);
    opt.dispose();
    params.forEach((p) => p.variable.dispose());
  });

  it('one dispatch per parameter, no host uploads and no new bind groups per step', async () => {
    await tf.setBackend('webgpu');
    const params = makeParams();
    const opt = new AdamW(params, [0.9, 0.999], 1e-8, { fused: true });
    const g = gradsAt(0);
    opt.step(g, params.map((p) => p.baseLr));
    const c = await countStep(async () => {
      opt.step(g, params.map((p) => p.baseLr));
      await params[0].variable.data();
    });
    expect(c.dispatches).toBe(SHAPES.length);
    expect(c.uploads).toBe(0);
    // The dispatch cache (ops/webgpu/dispatch_cache.ts) serves the second step's bind groups.
    expect(c.bind_groups_created).toBe(0);
    tf.dispose(Object.values(g));
    opt.dispose();
    params.forEach((p) => p.variable.dispose());
  });
});
