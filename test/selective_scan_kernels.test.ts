// The selective-scan kernels: the packed per-row gradient layout, the registered kernels on cpu and
// wasm, and the WGSL programs executed by a small WGSL->JS translation (no GPU here), all against the
// float64 CPU reference. Reference: ops/selective_scan/cpu.ts (itself checked against PyTorch in
// test/tinyvim_ops.test.ts). Tolerances: float32 storage of states/outputs, |err| <= 1e-5 * max|ref|.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { selectiveScan } from '../ops/selective_scan/selective_scan';
import {
  type ScanDims,
  type ScanInputs,
  gradRowLayout,
  selectiveScanBackwardCpu,
  selectiveScanForwardCpu,
  selectiveScanGradRowsCpu,
} from '../ops/selective_scan/cpu';
import { SCAN_GRAD_KERNEL, SCAN_KERNEL } from '../ops/selective_scan/kernels';
import { ScanParamsProgram, SelectiveScanProgram } from '../ops/selective_scan/webgpu';

/** Deterministic inputs in the ranges TinyViM produces (A negative, delta around the softplus knee). */
function makeInputs(d: ScanDims, seed: number): { x: ScanInputs; dy: Float32Array } {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const arr = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const { batch, channels, groups, length: L, dState: N } = d;
  const x: ScanInputs = {
    u: arr(batch * channels * L, -1, 1),
    delta: arr(batch * channels * L, -3, 1),
    A: arr(channels * N, -2, -0.1),
    B: arr(batch * groups * N * L, -1, 1),
    C: arr(batch * groups * N * L, -1, 1),
    D: arr(channels, 0.5, 1.5),
    deltaBias: arr(channels, -1, 0.5),
  };
  // One value past the softplus cut-off exercises that branch.
  x.delta[3] = 25;
  return { x, dy: arr(batch * channels * L, -1, 1) };
}

/** Sums the packed rows back to the seven gradients (JS twin of reduceGradRows). */
function reduceRows(p: Float32Array, d: ScanDims) {
  const { batch, channels, groups, length: L, dState: N } = d;
  const lay = gradRowLayout(L, N);
  const per = channels / groups;
  const g = {
    u: new Float64Array(batch * channels * L),
    delta: new Float64Array(batch * channels * L),
    A: new Float64Array(channels * N),
    B: new Float64Array(batch * groups * N * L),
    C: new Float64Array(batch * groups * N * L),
    D: new Float64Array(channels),
    deltaBias: new Float64Array(channels),
  };
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const o = (b * channels + c) * lay.width;
      const grp = Math.floor(c / per);
      for (let t = 0; t < L; t++) {
        g.u[(b * channels + c) * L + t] = p[o + lay.du + t];
        g.delta[(b * channels + c) * L + t] = p[o + lay.ddelta + t];
      }
      for (let k = 0; k < N * L; k++) {
        g.B[(b * groups + grp) * N * L + k] += p[o + lay.dB + k];
        g.C[(b * groups + grp) * N * L + k] += p[o + lay.dC + k];
      }
      for (let n = 0; n < N; n++) g.A[c * N + n] += p[o + lay.dA + n];
      g.D[c] += p[o + lay.dD];
      g.deltaBias[c] += p[o + lay.dBias];
    }
  }
  return g;
}

function expectRelClose(a: ArrayLike<number>, ref: ArrayLike<number>, rel: number, what: string): void {
  expect(a.length, `${what}: length`).toBe(ref.length);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    diff = Math.max(diff, Math.abs(a[i] - ref[i]));
  }
  expect(scale, `${what}: reference is all zeros`).toBeGreaterThan(0);
  expect(diff, `${what}: max abs diff ${diff} vs ${rel} * ${scale}`).toBeLessThanOrEqual(rel * scale);
}

const GRAD_NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'deltaBias'] as const;
const DIMS: ScanDims = { batch: 2, channels: 6, groups: 3, length: 7, dState: 4 };

describe('packed per-row gradients (CPU)', () => {
  for (const softplus of [true, false]) {
    it(`reduce to the reference gradients (softplus ${softplus})`, () => {
      const { x, dy } = makeInputs(DIMS, 7);
      const ref = selectiveScanBackwardCpu(x, dy, DIMS, softplus);
      const got = reduceRows(selectiveScanGradRowsCpu(x, dy, DIMS, softplus), DIMS);
      for (const n of GRAD_NAMES) expectRelClose(got[n], ref[n], 1e-5, n);
    });
  }
});

// ------------------------------------------------------------------ WGSL, executed as JavaScript

/**
 * Translates the subset of WGSL our scan programs use into JavaScript: fn/const/var declarations
 * lose their types, function-scope arrays become Float32Arrays (GPU registers hold f32), and division
 * of an identifier by an identifier or an integer literal is integer division (every such division in
 * the shaders is on i32 values; float divisions there start with a float literal).
 */
function wgslToJs(code: string): string {
  return code
    .replace(/fn (\w+)\(([^)]*)\)(\s*->\s*\w+)?\s*\{/g, (_m, name: string, params: string) => `function ${name}(${params.split(',').map((p) => p.split(':')[0].trim()).filter(Boolean).join(', ')}) {`)
    .replace(/const (\w+) : i32 = (\d+);/g, 'const $1 = $2;')
    .replace(/var (\w+) : array<f32, (\w+)>;/g, 'let $1 = new Float32Array($2);')
    .replace(/\b([A-Za-z_][\w.]*) \/ ([A-Za-z_][\w.]*|\d+)\b(?!\.)/g, 'Math.trunc($1 / $2)')
    .replace(/\bexp\(/g, 'Math.exp(')
    .replace(/\blog\(/g, 'Math.log(');
}

/** Runs a program's user code on the given inputs, one call per invocation of its grid. */
function emulate(program: SelectiveScanProgram | ScanParamsProgram, inputs: Float32Array[]): Float32Array {
  const size = program.outputShape.reduce((a, b) => a * b, 1);
  const result = new Float32Array(size);
  const names = program.variableNames;
  expect(names.length).toBe(inputs.length);
  const uniformValues = program.uniformData().map((u) => u.data[0]);
  const uniformNames = program.uniforms.split(',').map((f) => f.split(':')[0].trim()).filter(Boolean);
  const uniforms = Object.fromEntries(uniformNames.map((n, i) => [n, uniformValues[i]]));
  const js = wgslToJs(program.getUserCode());
  const main = new Function('uniforms', 'result', ...names, `${js}\nreturn main;`)(uniforms, result, ...inputs) as (i: number) => void;
  // Launch the whole grid, including the idle invocations of the last workgroup.
  const invocations = program.dispatch[0] * program.workgroupSize[0];
  expect(invocations).toBeGreaterThanOrEqual(program instanceof SelectiveScanProgram ? uniforms.rows : size);
  for (let i = 0; i < invocations; i++) main(i);
  return result;
}

describe('WGSL programs (emulated)', () => {
  // As the webgpu kernel runs them: pack A, D, deltaBias first, then the scan on the packed params.
  const orderedArrays = (x: ScanInputs) => {
    const params = emulate(new ScanParamsProgram(DIMS), [x.A, x.D!, x.deltaBias!]);
    return [x.u, x.delta, params, x.B, x.C];
  };
  for (const softplus of [true, false]) {
    it(`forward matches the reference (softplus ${softplus})`, () => {
      const { x } = makeInputs(DIMS, 11);
      const y = emulate(new SelectiveScanProgram('forward', DIMS, softplus), orderedArrays(x));
      expectRelClose(y, selectiveScanForwardCpu(x, DIMS, softplus), 1e-5, 'y');
    });
    it(`gradient rows match the CPU rows and the reference (softplus ${softplus})`, () => {
      const { x, dy } = makeInputs(DIMS, 13);
      const program = new SelectiveScanProgram('grad', DIMS, softplus);
      expect(program.outputShape).toEqual([DIMS.batch * DIMS.channels, gradRowLayout(DIMS.length, DIMS.dState).width]);
      const rows = emulate(program, [...orderedArrays(x), dy]);
      expectRelClose(rows, selectiveScanGradRowsCpu(x, dy, DIMS, softplus), 1e-5, 'packed rows');
      const ref = selectiveScanBackwardCpu(x, dy, DIMS, softplus);
      const got = reduceRows(rows, DIMS);
      for (const n of GRAD_NAMES) expectRelClose(got[n], ref[n], 1e-5, `emulated ${n}`);
    });
  }

  it('declares what tfjs-backend-webgpu needs and keys shaders by mode, N and softplus', () => {
    const p = new SelectiveScanProgram('grad', DIMS, true);
    // At most 8 storage buffers per stage (WebGPU's default limit): the output and 7 inputs.
    expect(p.variableNames).toEqual(['U', 'Delta', 'Params', 'Bmat', 'Cmat', 'Dy']);
    expect(p.variableNames.length + 1).toBeLessThanOrEqual(8);
    expect(new ScanParamsProgram(DIMS).variableNames.length + 1).toBeLessThanOrEqual(8);
    expect(p.dispatch).toEqual([1, 1, 1]);
    expect(p.dispatchLayout.x.length).toBe(p.outputShape.length);
    expect(p.getUserCode()).toContain('const NSTATE : i32 = 4;');
    expect(new Set([p.shaderKey, new SelectiveScanProgram('forward', DIMS, true).shaderKey, new SelectiveScanProgram('grad', { ...DIMS, dState: 8 }, true).shaderKey, new SelectiveScanProgram('grad', DIMS, false).shaderKey]).size).toBe(4);
  });
});

// ------------------------------------------------------------------ registered kernels through the op

describe('registered kernels', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`run on ${backend}: forward and seven gradients match the reference, no leaks`, async () => {
      await tf.setBackend(backend);
      expect(tf.getKernel(SCAN_KERNEL, backend)).toBeDefined();
      expect(tf.getKernel(SCAN_GRAD_KERNEL, backend)).toBeDefined();
      const { x, dy } = makeInputs(DIMS, 17);
      const { batch, channels, groups, length: L, dState: N } = DIMS;
      const ins = [
        tf.tensor3d(x.u, [batch, channels, L]),
        tf.tensor3d(x.delta, [batch, channels, L]),
        tf.tensor2d(x.A, [channels, N]),
        tf.tensor4d(x.B, [batch, groups, N, L]),
        tf.tensor4d(x.C, [batch, groups, N, L]),
        tf.tensor1d(x.D!),
        tf.tensor1d(x.deltaBias!),
      ];
      const w = tf.tensor3d(dy, [batch, channels, L]);
      const before = tf.memory().numTensors;
      const f = (...xs: tf.Tensor[]) =>
        selectiveScan(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor2D, xs[3] as tf.Tensor4D, xs[4] as tf.Tensor4D, xs[5], xs[6]);
      const y = f(...ins);
      expectRelClose(await y.data(), selectiveScanForwardCpu(x, DIMS, true), 1e-6, `${backend} y`);
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(ins);
      const ref = selectiveScanBackwardCpu(x, dy, DIMS, true);
      for (let i = 0; i < GRAD_NAMES.length; i++) {
        expect(grads[i].shape).toEqual(ins[i].shape);
        expectRelClose(await grads[i].data(), ref[GRAD_NAMES[i]], 1e-5, `${backend} grad ${GRAD_NAMES[i]}`);
      }
      tf.dispose([y, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([...ins, w]);
    });
  }
});
