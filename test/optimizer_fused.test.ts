// The fused optimizer update (ops/optimizer_update.ts, one kernel call per step, in place) against the
// op-by-op formula of engine/optimizers.ts on the cpu backend: K steps from the same start must give
// bit-identical parameters and state (every fused statement rounds to float32 where the op path's
// tensors do). Also: one kernel invocation per step instead of ~14 per parameter, no scalar uploads,
// in-place updates never change a tensor that shares storage with a parameter or state, and
// optimizer state written by one path loads into the other.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, type Optimizer, SGD } from '../engine/optimizers';
import type { ParamEntry } from '../engine/param_groups';
import { countStep } from '../tools/lib/profile';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic pseudo-random values in [-scale, scale]. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

const SHAPES: number[][] = [[3, 5], [7], [2, 3, 3, 4], [1]];

/** Parameters with two weight-decay groups (one with wd 0) and distinct learning rates. */
function makeParams(tag: string): ParamEntry[] {
  return SHAPES.map((shape, i) => {
    const init = tf.tensor(values(tf.util.sizeFromShape(shape), 11 + i), shape);
    const variable = tf.variable(init, true, `${tag}_p${i}_${Math.random()}`);
    init.dispose();
    return { name: `p${i}`, variable, layout: 'plain' as const, baseLr: 0.01 * (i + 1), weightDecay: i % 2 ? 0 : 0.05 };
  });
}

function gradsAt(step: number): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  SHAPES.forEach((shape, i) => {
    // Parameter 3 gets no gradient on odd steps (the optimizer must skip it).
    if (i === 3 && step % 2) return;
    out[`p${i}`] = tf.tensor(values(tf.util.sizeFromShape(shape), 1000 * step + i, 0.5 + step), shape);
  });
  return out;
}

const bits = (t: tf.Tensor): Uint32Array => new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer);

function run(make: (params: ParamEntry[], fused: boolean) => Optimizer, fused: boolean, steps: number) {
  const params = makeParams(fused ? 'f' : 'o');
  const opt = make(params, fused);
  for (let s = 0; s < steps; s++) {
    const g = gradsAt(s);
    opt.step(g, params.map((p) => p.baseLr * (1 - s / 10)));
    tf.dispose(Object.values(g));
  }
  const out = {
    params: params.map((p) => bits(p.variable)),
    state: opt.stateEntries().map(([n, k, v]) => [n, k, bits(v)] as const),
  };
  opt.dispose();
  params.forEach((p) => p.variable.dispose());
  return out;
}

const CASES: [string, (params: ParamEntry[], fused: boolean) => Optimizer][] = [
  ['AdamW', (p, fused) => new AdamW(p, [0.9, 0.999], 1e-8, { fused })],
  ['AdamW betas 0.8/0.95 eps 1e-6', (p, fused) => new AdamW(p, [0.8, 0.95], 1e-6, { fused })],
  ['SGD plain', (p, fused) => new SGD(p, 0, 0, false, { fused })],
  ['SGD momentum 0.9', (p, fused) => new SGD(p, 0.9, 0, false, { fused })],
  ['SGD momentum 0.9 dampening 0.1', (p, fused) => new SGD(p, 0.9, 0.1, false, { fused })],
  ['SGD nesterov', (p, fused) => new SGD(p, 0.9, 0, true, { fused })],
];

for (const backend of ['cpu'] as const) {
  describe(`fused optimizer update = op-by-op update on ${backend} (bit-identical)`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
    });
    for (const [name, make] of CASES) {
      it(`${name}: 6 steps, parameters and state bit-identical`, () => {
        const before = tf.memory().numTensors;
        const a = run(make, false, 6);
        const b = run(make, true, 6);
        expect(b.params.length).toBe(a.params.length);
        a.params.forEach((p, i) => expect(Array.from(b.params[i])).toEqual(Array.from(p)));
        expect(b.state.map(([n, k]) => `${n}.${k}`)).toEqual(a.state.map(([n, k]) => `${n}.${k}`));
        a.state.forEach(([, , v], i) => expect(Array.from(b.state[i][2])).toEqual(Array.from(v)));
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}

describe('fused optimizer update: cost and safety (cpu)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('one kernel invocation per step and no host uploads, against ~14 ops per parameter', async () => {
    const counts: Record<string, number[]> = {};
    for (const fused of [false, true]) {
      const params = makeParams('c');
      const opt = new AdamW(params, [0.9, 0.999], 1e-8, { fused });
      const g = gradsAt(0);
      opt.step(g, params.map((p) => p.baseLr)); // state created
      const c = await countStep(async () => opt.step(g, params.map((p) => p.baseLr)));
      counts[String(fused)] = [c.kernels, c.uploads];
      tf.dispose(Object.values(g));
      opt.dispose();
      params.forEach((p) => p.variable.dispose());
    }
    expect(counts.true).toEqual([1, 0]);
    expect(counts.false[0]).toBeGreaterThanOrEqual(10 * SHAPES.length);
    expect(counts.false[1]).toBeGreaterThan(0);
  });

  it('a tensor sharing storage with a parameter or loaded state is not changed by the in-place update', () => {
    const params = makeParams('s');
    const shared = tf.tensor(values(15, 5), [3, 5]);
    params[0].variable.assign(shared); // the variable now shares `shared`'s storage
    const opt = new AdamW(params, [0.9, 0.999], 1e-8, { fused: true });
    const g = gradsAt(0);
    opt.step(g, params.map((p) => p.baseLr));
    const state = opt.stateEntries().map(([n, k, v]) => [n, k, v.clone()] as [string, string, tf.Tensor]);
    const opt2 = new AdamW(params, [0.9, 0.999], 1e-8, { fused: true });
    opt2.loadState(state, 1); // state variables share the clones' storage until the clones are disposed
    const kept = state.map(([, , t]) => Array.from(t.dataSync()));
    opt2.step(g, params.map((p) => p.baseLr));
    expect(Array.from(shared.dataSync())).toEqual(Array.from(values(15, 5)));
    state.forEach(([, , t], i) => expect(Array.from(t.dataSync())).toEqual(kept[i]));
    expect(Array.from(params[0].variable.dataSync())).not.toEqual(Array.from(values(15, 5)));
    tf.dispose([shared, ...Object.values(g), ...state.map(([, , t]) => t)]);
    opt.dispose();
    opt2.dispose();
    params.forEach((p) => p.variable.dispose());
  });

  it('state saved by the op-by-op optimizer continues bit-identically in the fused one (and back)', () => {
    const continueFrom = (firstFused: boolean, thenFused: boolean) => {
      const params = makeParams('k');
      const a = new AdamW(params, [0.9, 0.999], 1e-8, { fused: firstFused });
      for (let s = 0; s < 2; s++) {
        const g = gradsAt(s);
        a.step(g, params.map((p) => p.baseLr));
        tf.dispose(Object.values(g));
      }
      const saved = a.stateEntries().map(([n, k, v]) => [n, k, tf.tensor(v.dataSync(), v.shape)] as [string, string, tf.Tensor]);
      a.dispose();
      const b = new AdamW(params, [0.9, 0.999], 1e-8, { fused: thenFused });
      b.loadState(saved, 2);
      tf.dispose(saved.map(([, , t]) => t));
      for (let s = 2; s < 4; s++) {
        const g = gradsAt(s);
        b.step(g, params.map((p) => p.baseLr));
        tf.dispose(Object.values(g));
      }
      const out = params.map((p) => Array.from(bits(p.variable)));
      b.dispose();
      params.forEach((p) => p.variable.dispose());
      return out;
    };
    const reference = continueFrom(false, false);
    expect(continueFrom(false, true)).toEqual(reference);
    expect(continueFrom(true, false)).toEqual(reference);
  });
});
