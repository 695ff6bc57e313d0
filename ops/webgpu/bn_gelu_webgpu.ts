// Fused BatchNorm (training mode, NHWC, per-channel over N*H*W) and exact GELU kernels for webgpu.
// The composites in ops/fused_ops.ts cost ~10 kernel calls (+ scalar uploads) per BN forward, ~15 per
// BN backward and ~6 per GELU; on webgpu every call is a dispatch with its own uniform buffer and bind
// group, and the train steps are host-bound (docs/speed.md). Here:
//   TvdBnStats      x [R, C] (any rank, channels last) -> [2, C]: mean, biased variance. Two passes:
//                   per-split Welford (count, mean, M2) with a shared-memory tree combining lanes by
//                   Chan et al.'s pairwise rule, then the splits combined the same way (16 split
//                   lanes per column and a tree) (numerically like tf.moments' two-pass mean of squared deviations,
//                   unlike a one-pass sum of squares).
//   TvdBnApply      (x, stats, weight, bias) -> act((x - mean) * (rsqrt(var + eps) * weight) + bias), one
//                   element-wise pass, same operation order as the composite.
//   TvdBnGradSums   (dy, x, stats, weight, bias) -> [2, C]: sum(dy'), sum(dy' * xhat) with dy' = dy, or
//                   dy * gelu'(xhat * weight + bias) when the forward had GELU (recomputed, not stored).
//                   Split-column partial sums + SplitKReduceProgram.
//   TvdBnGradInput  (dy, x, stats, weight, bias, sums) -> dx = (dy' - sum(dy')/n - xhat * sum(dy' xhat)/n)
//                   * (invstd * weight), PyTorch's batch_norm_backward for training mode.
//   TvdGelu / TvdGeluGrad  exact GELU x * Phi(x) and dy * (Phi(x) + x phi(x)), with erf in tfjs-webgpu's
//                   own form (Abramowitz & Stegun 7.1.26, tfjs's ERF_* constants) so values match the
//                   composite's tf.erf on this backend.
// Element reads go through f32(): tfjs's bool -> float32 Cast keeps the bool buffer, declared i32.
// Only registered for webgpu (and only with our kernels on, see register.ts): cpu and wasm keep the
// composites, so their numbers are unchanged bit for bit.
import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform, TI, WebGPUBackendLike, WebGPUProgramLike } from './program';
import { MAX_WORKGROUPS_PER_DIM, int32Uniforms } from './program';
import { SplitKReduceProgram } from './split_k_reduce';

export const BN_STATS = 'TvdBnStats';
export const BN_APPLY = 'TvdBnApply';
export const BN_GRAD_SUMS = 'TvdBnGradSums';
export const BN_GRAD_INPUT = 'TvdBnGradInput';
export const BN_RUNNING_UPDATE = 'TvdBnRunningUpdate';
export const GELU = 'TvdGelu';
export const GELU_GRAD = 'TvdGeluGrad';

export type BnAct = 'none' | 'gelu';

const TX = 16;
const TY = 16;
const TARGET_WORKGROUPS = 2048;
/** Element-wise programs: workgroup size and most workgroups (grid-stride loop beyond). */
const EW_WG = 256;
const EW_MAX_GROUPS = 8192;

/** f32 WGSL literal of a JS number (exact decimal; WGSL rounds it to the nearest f32 like Float32Array). */
const lit = (v: number): string => {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
};

const bu = tf.backend_util as unknown as Record<string, number>;
/** WGSL helpers: erf as tfjs-backend-webgpu 4.22 writes it (UnaryOpType.ERF), GELU and its derivative as the composites. */
const GELU_WGSL = `
  fn tvdErf(a : f32) -> f32 {
    let p = ${lit(bu.ERF_P)};
    let a1 = ${lit(bu.ERF_A1)};
    let a2 = ${lit(bu.ERF_A2)};
    let a3 = ${lit(bu.ERF_A3)};
    let a4 = ${lit(bu.ERF_A4)};
    let a5 = ${lit(bu.ERF_A5)};
    let sgn = sign(a);
    let absA = abs(a);
    let t = 1.0 / (1.0 + p * absA);
    return sgn * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp(-absA * absA));
  }
  // x * 0.5 * (erf(x / sqrt 2) + 1)
  fn tvdGelu(x : f32) -> f32 {
    return (x * 0.5) * (tvdErf(x * ${lit(Math.SQRT1_2)}) + 1.0);
  }
  // (erf(x / sqrt 2) + 1) * 0.5 + x * (exp(-x^2 / 2) / sqrt(2 pi))
  fn tvdGeluDeriv(x : f32) -> f32 {
    return (tvdErf(x * ${lit(Math.SQRT1_2)}) + 1.0) * 0.5 + x * (exp((x * x) * -0.5) * ${lit(1 / Math.sqrt(2 * Math.PI))});
  }
`;

const rowsCols = (x: TI): [number, number] => {
  const c = x.shape[x.shape.length - 1];
  return [tf.util.sizeFromShape(x.shape) / c, c];
};

/** Splits of the rows for a [rows, cols] column pass aiming at ~TARGET_WORKGROUPS workgroups. */
function splitRows(rows: number, cols: number): { chunk: number; splits: number; tiles: number } {
  const tiles = Math.ceil(cols / TX);
  const wanted = Math.max(1, Math.min(Math.ceil(rows / TY), Math.max(1, Math.ceil(TARGET_WORKGROUPS / tiles)), MAX_WORKGROUPS_PER_DIM));
  const chunk = Math.ceil(rows / wanted);
  return { chunk, splits: Math.ceil(rows / chunk), tiles };
}

/** Pass 1 of TvdBnStats: Partials [splits * 3, C] = per split (count, mean, M2) of each column. */
class WelfordPartialProgram implements WebGPUProgramLike {
  readonly variableNames = ['X'];
  readonly outputShape: number[];
  shaderKey = 'tvdBnWelfordPartial';
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = 'rows : i32, cols : i32, chunk : i32,';
  readonly splits: number;
  private readonly chunk: number;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    const s = splitRows(rows, cols);
    this.chunk = s.chunk;
    this.splits = s.splits;
    this.outputShape = [this.splits * 3, cols];
    this.dispatch = [s.tiles, this.splits, 1];
  }

  uniformData(): ProgramUniform[] {
    return int32Uniforms([this.rows, this.cols, this.chunk]);
  }

  getUserCode(): string {
    return `
      var<workgroup> cnt : array<f32, ${TX * TY}>;
      var<workgroup> mu : array<f32, ${TX * TY}>;
      var<workgroup> m2 : array<f32, ${TX * TY}>;

      fn main() {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let col = i32(workgroupId.x) * ${TX} + lx;
        let split = i32(workgroupId.y);
        let rStart = split * uniforms.chunk;
        let rEnd = min(rStart + uniforms.chunk, uniforms.rows);
        var n = 0.0;
        var mean = 0.0;
        var m = 0.0;
        if (col < uniforms.cols) {
          for (var r = rStart + ly; r < rEnd; r = r + ${TY}) {
            let v = f32(X[r * uniforms.cols + col]);
            n = n + 1.0;
            let d = v - mean;
            mean = mean + d / n;
            m = m + d * (v - mean);
          }
        }
        let li = ly * ${TX} + lx;
        cnt[li] = n;
        mu[li] = mean;
        m2[li] = m;
        workgroupBarrier();
        for (var s = ${TY / 2}; s > 0; s = s / 2) {
          if (ly < s) {
            let o = li + s * ${TX};
            let na = cnt[li];
            let nb = cnt[o];
            let nn = na + nb;
            if (nb > 0.0) {
              let d = mu[o] - mu[li];
              mu[li] = mu[li] + d * (nb / nn);
              m2[li] = m2[li] + m2[o] + d * d * (na * nb / nn);
              cnt[li] = nn;
            }
          }
          workgroupBarrier();
        }
        if (ly == 0 && col < uniforms.cols) {
          let base = split * 3 * uniforms.cols + col;
          result[base] = cnt[lx];
          result[base + uniforms.cols] = mu[lx];
          result[base + 2 * uniforms.cols] = m2[lx];
        }
      }
`;
  }
}

/**
 * Pass 2 of TvdBnStats: output [2, C] (mean, biased var). Workgroup (16 x 16) = 16 columns x 16 split
 * lanes; each lane combines every 16th split (Chan's rule), then a shared-memory tree over the lanes.
 * (One invocation per column looping over all splits took 0.14 ms per call on the H200, 18 ms per
 * TinyViM-B step: latency-bound like the first SplitKReduceProgram.)
 */
class WelfordCombineProgram implements WebGPUProgramLike {
  readonly variableNames = ['Partials'];
  readonly outputShape: number[];
  shaderKey = 'tvdBnWelfordCombine';
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = 'splits : i32, cols : i32,';

  constructor(
    readonly splits: number,
    readonly cols: number,
  ) {
    this.outputShape = [2, cols];
    this.dispatch = [Math.ceil(cols / TX), 1, 1];
  }

  uniformData(): ProgramUniform[] {
    return int32Uniforms([this.splits, this.cols]);
  }

  getUserCode(): string {
    return `
      var<workgroup> cnt : array<f32, ${TX * TY}>;
      var<workgroup> mu : array<f32, ${TX * TY}>;
      var<workgroup> m2 : array<f32, ${TX * TY}>;

      fn main() {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let col = i32(workgroupId.x) * ${TX} + lx;
        var n = 0.0;
        var mean = 0.0;
        var m = 0.0;
        if (col < uniforms.cols) {
          for (var s = ly; s < uniforms.splits; s = s + ${TY}) {
            let base = s * 3 * uniforms.cols + col;
            let nb = Partials[base];
            if (nb > 0.0) {
              let nn = n + nb;
              let d = Partials[base + uniforms.cols] - mean;
              mean = mean + d * (nb / nn);
              m = m + Partials[base + 2 * uniforms.cols] + d * d * (n * nb / nn);
              n = nn;
            }
          }
        }
        let li = ly * ${TX} + lx;
        cnt[li] = n;
        mu[li] = mean;
        m2[li] = m;
        workgroupBarrier();
        for (var s = ${TY / 2}; s > 0; s = s / 2) {
          if (ly < s) {
            let o = li + s * ${TX};
            let na = cnt[li];
            let nb = cnt[o];
            let nn = na + nb;
            if (nb > 0.0) {
              let d = mu[o] - mu[li];
              mu[li] = mu[li] + d * (nb / nn);
              m2[li] = m2[li] + m2[o] + d * d * (na * nb / nn);
              cnt[li] = nn;
            }
          }
          workgroupBarrier();
        }
        if (ly == 0 && col < uniforms.cols) {
          result[col] = mu[lx];
          result[uniforms.cols + col] = m2[lx] / max(cnt[lx], 1.0);
        }
      }
`;
  }
}

/** Shared element-wise program shape: grid-stride over `len` elements, channel = i % cols. */
abstract class ElementwiseProgram implements WebGPUProgramLike {
  abstract readonly variableNames: string[];
  abstract shaderKey: string;
  readonly outputShape: number[];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [EW_WG, 1, 1];
  readonly uniforms: string = 'len : i32, cols : i32, eps : f32, n : f32,';
  protected readonly len: number;

  constructor(
    shape: number[],
    protected readonly eps = 0,
    protected readonly n = 1,
  ) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.len = tf.util.sizeFromShape(shape);
    this.dispatch = [Math.max(1, Math.min(EW_MAX_GROUPS, Math.ceil(this.len / EW_WG))), 1, 1];
  }

  uniformData(): ProgramUniform[] {
    return [
      ...int32Uniforms([this.len, this.outputShape[this.outputShape.length - 1]]),
      { type: 'float32', data: [this.eps] },
      { type: 'float32', data: [this.n] },
    ];
  }

  /** WGSL body computing `result[i]` from element i and its channel c. */
  protected abstract body(): string;

  getUserCode(): string {
    // The grid-stride loop (not one element per invocation) keeps the dispatch within 65535
    // workgroups per dimension, so tfjs never reshapes it.
    return `
      ${GELU_WGSL}
      fn main(index : i32) {
        let stride = i32(numWorkgroups.x) * ${EW_WG};
        for (var i = i32(globalId.x); i < uniforms.len; i = i + stride) {
          let c = i % uniforms.cols;
          ${this.body()}
        }
      }
`;
  }
}

/** (x - mean) * (invstd * w) + b with invstd = inverseSqrt(var + eps), as the composite's op order. */
const XHAT_AFFINE = `
          let mean = Stats[c];
          let invstd = inverseSqrt(Stats[uniforms.cols + c] + uniforms.eps);
`;

class BnApplyProgram extends ElementwiseProgram {
  readonly variableNames = ['X', 'Stats', 'W', 'B'];
  shaderKey: string;
  constructor(
    shape: number[],
    eps: number,
    private readonly act: BnAct,
  ) {
    super(shape, eps);
    this.shaderKey = `tvdBnApply_${act}`;
  }
  protected body(): string {
    return `${XHAT_AFFINE}
          let z = (f32(X[i]) - mean) * (invstd * W[c]) + B[c];
          result[i] = ${this.act === 'gelu' ? 'tvdGelu(z)' : 'z'};`;
  }
}

class BnGradInputProgram extends ElementwiseProgram {
  // Without GELU the bias is not read, and a binding the shader never reads is dropped from the
  // pipeline's 'auto' layout (the bind group would then fail validation): it is not bound at all.
  readonly variableNames: string[];
  shaderKey: string;
  constructor(
    shape: number[],
    eps: number,
    n: number,
    private readonly act: BnAct,
  ) {
    super(shape, eps, n);
    this.shaderKey = `tvdBnGradInput_${act}`;
    this.variableNames = act === 'gelu' ? ['Dy', 'X', 'Stats', 'W', 'B', 'Sums'] : ['Dy', 'X', 'Stats', 'W', 'Sums'];
  }
  protected body(): string {
    return `${XHAT_AFFINE}
          let xhat = (f32(X[i]) - mean) * invstd;
          let dy = ${this.act === 'gelu' ? 'f32(Dy[i]) * tvdGeluDeriv(xhat * W[c] + B[c])' : 'f32(Dy[i])'};
          let centred = (dy - Sums[c] / uniforms.n) - xhat * (Sums[uniforms.cols + c] / uniforms.n);
          result[i] = centred * (invstd * W[c]);`;
  }
}

class GeluProgram extends ElementwiseProgram {
  readonly variableNames: string[];
  shaderKey: string;
  constructor(
    shape: number[],
    private readonly grad: boolean,
  ) {
    super(shape);
    this.variableNames = grad ? ['Dy', 'X'] : ['X'];
    this.shaderKey = grad ? 'tvdGeluGrad' : 'tvdGelu';
  }
  protected body(): string {
    return this.grad ? 'result[i] = f32(Dy[i]) * tvdGeluDeriv(f32(X[i]));' : 'result[i] = tvdGelu(f32(X[i]));';
  }
}

/**
 * TvdBnRunningUpdate: running [C], stats [2, C] -> running * keep + (stats[row] * scale) * take, i.e.
 * PyTorch's momentum rule (keep = 1 - momentum, take = momentum) with, for the variance (row 1), the
 * unbiased factor scale = n / (n - 1); the same f32 operations as the op-by-op update (the factors are
 * rounded to f32 as the scalar operands were).
 */
class BnRunningUpdateProgram extends ElementwiseProgram {
  readonly variableNames = ['Running', 'Stats'];
  shaderKey = 'tvdBnRunningUpdate';
  override readonly uniforms = 'len : i32, cols : i32, row : i32, keep : f32, take : f32, scale : f32,';
  constructor(
    cols: number,
    private readonly row: number,
    private readonly keep: number,
    private readonly take: number,
    private readonly scale: number,
  ) {
    super([cols]);
  }
  override uniformData(): ProgramUniform[] {
    return [
      ...int32Uniforms([this.len, this.outputShape[0], this.row]),
      ...[this.keep, this.take, this.scale].map((v) => ({ type: 'float32' as const, data: [v] })),
    ];
  }
  protected body(): string {
    return 'result[i] = Running[c] * uniforms.keep + (Stats[uniforms.row * uniforms.cols + c] * uniforms.scale) * uniforms.take;';
  }
}

/** Pass 1 of TvdBnGradSums: Partials [splits, 2 * C] = per split sum(dy') (first C) and sum(dy' * xhat). */
class BnGradPartialProgram implements WebGPUProgramLike {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = 'rows : i32, cols : i32, chunk : i32, eps : f32,';
  readonly splits: number;
  private readonly chunk: number;

  constructor(
    readonly rows: number,
    readonly cols: number,
    private readonly eps: number,
    private readonly act: BnAct,
  ) {
    const s = splitRows(rows, cols);
    this.chunk = s.chunk;
    this.splits = s.splits;
    this.outputShape = [this.splits, 2 * cols];
    this.dispatch = [s.tiles, this.splits, 1];
    this.shaderKey = `tvdBnGradPartial_${act}`;
    // The bias only enters through GELU's derivative; unread bindings must not be bound (see BnGradInputProgram).
    this.variableNames = act === 'gelu' ? ['Dy', 'X', 'Stats', 'W', 'B'] : ['Dy', 'X', 'Stats', 'W'];
  }

  uniformData(): ProgramUniform[] {
    return [...int32Uniforms([this.rows, this.cols, this.chunk]), { type: 'float32', data: [this.eps] }];
  }

  getUserCode(): string {
    return `
      ${GELU_WGSL}
      var<workgroup> r0 : array<f32, ${TX * TY}>;
      var<workgroup> r1 : array<f32, ${TX * TY}>;

      fn main() {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let col = i32(workgroupId.x) * ${TX} + lx;
        let split = i32(workgroupId.y);
        let rStart = split * uniforms.chunk;
        let rEnd = min(rStart + uniforms.chunk, uniforms.rows);
        var a0 = 0.0;
        var a1 = 0.0;
        if (col < uniforms.cols) {
          let mean = Stats[col];
          let invstd = inverseSqrt(Stats[uniforms.cols + col] + uniforms.eps);
          let w = W[col];
          ${this.act === 'gelu' ? 'let b = B[col];' : ''}
          for (var r = rStart + ly; r < rEnd; r = r + ${TY}) {
            let i = r * uniforms.cols + col;
            let xhat = (f32(X[i]) - mean) * invstd;
            let dy = ${this.act === 'gelu' ? 'f32(Dy[i]) * tvdGeluDeriv(xhat * w + b)' : 'f32(Dy[i])'};
            a0 = a0 + dy;
            a1 = a1 + dy * xhat;
          }
        }
        let li = ly * ${TX} + lx;
        r0[li] = a0;
        r1[li] = a1;
        workgroupBarrier();
        for (var s = ${TY / 2}; s > 0; s = s / 2) {
          if (ly < s) {
            r0[li] = r0[li] + r0[li + s * ${TX}];
            r1[li] = r1[li] + r1[li + s * ${TX}];
          }
          workgroupBarrier();
        }
        if (ly == 0 && col < uniforms.cols) {
          result[split * 2 * uniforms.cols + col] = r0[lx];
          result[split * 2 * uniforms.cols + uniforms.cols + col] = r1[lx];
        }
      }
`;
  }
}

type Args = { inputs: Record<string, TI>; backend: unknown; attrs: Record<string, unknown> };
const be = (a: Args): WebGPUBackendLike => a.backend as WebGPUBackendLike;
const actOf = (a: Args): BnAct => (a.attrs.act === 'gelu' ? 'gelu' : 'none');

function bnStats(a: Args): TI {
  const { x } = a.inputs;
  const [rows, cols] = rowsCols(x);
  const p1 = new WelfordPartialProgram(rows, cols);
  const parts = be(a).runWebGPUProgram(p1, [x], 'float32', p1.uniformData());
  const p2 = new WelfordCombineProgram(p1.splits, cols);
  const out = be(a).runWebGPUProgram(p2, [parts], 'float32', p2.uniformData());
  be(a).disposeData(parts.dataId);
  return out;
}

function bnApply(a: Args): TI {
  const { x, stats, weight, bias } = a.inputs;
  const p = new BnApplyProgram(x.shape as number[], a.attrs.eps as number, actOf(a));
  return be(a).runWebGPUProgram(p, [x, stats, weight, bias], 'float32', p.uniformData());
}

function bnGradSums(a: Args): TI {
  const { dy, x, stats, weight, bias } = a.inputs;
  const [rows, cols] = rowsCols(x);
  const p1 = new BnGradPartialProgram(rows, cols, a.attrs.eps as number, actOf(a));
  const ins = actOf(a) === 'gelu' ? [dy, x, stats, weight, bias] : [dy, x, stats, weight];
  const parts = be(a).runWebGPUProgram(p1, ins, 'float32', p1.uniformData());
  const p2 = new SplitKReduceProgram([2, cols], p1.splits, 1);
  const out = be(a).runWebGPUProgram(p2, [parts], 'float32', p2.uniformData());
  be(a).disposeData(parts.dataId);
  return out;
}

function bnGradInput(a: Args): TI {
  const { dy, x, stats, weight, bias, sums } = a.inputs;
  const [rows] = rowsCols(x);
  const p = new BnGradInputProgram(x.shape as number[], a.attrs.eps as number, rows, actOf(a));
  const ins = actOf(a) === 'gelu' ? [dy, x, stats, weight, bias, sums] : [dy, x, stats, weight, sums];
  return be(a).runWebGPUProgram(p, ins, 'float32', p.uniformData());
}

function bnRunningUpdate(a: Args): TI {
  const { running, stats } = a.inputs;
  const at = a.attrs as { row: number; keep: number; take: number; scale: number };
  const p = new BnRunningUpdateProgram(running.shape[0], at.row, at.keep, at.take, at.scale);
  return be(a).runWebGPUProgram(p, [running, stats], 'float32', p.uniformData());
}

function gelu(a: Args): TI {
  const p = new GeluProgram(a.inputs.x.shape as number[], false);
  return be(a).runWebGPUProgram(p, [a.inputs.x], 'float32', p.uniformData());
}

function geluGrad(a: Args): TI {
  const p = new GeluProgram(a.inputs.x.shape as number[], true);
  return be(a).runWebGPUProgram(p, [a.inputs.dy, a.inputs.x], 'float32', p.uniformData());
}

const KERNELS: Record<string, (a: Args) => TI> = {
  [BN_STATS]: bnStats,
  [BN_APPLY]: bnApply,
  [BN_GRAD_SUMS]: bnGradSums,
  [BN_GRAD_INPUT]: bnGradInput,
  [BN_RUNNING_UPDATE]: bnRunningUpdate,
  [GELU]: gelu,
  [GELU_GRAD]: geluGrad,
};

/** Registers the fused BN/GELU kernels for 'webgpu' (idempotent). ops/fused_ops.ts uses them when registered. */
export function registerWebgpuBnGelu(): void {
  for (const [kernelName, fn] of Object.entries(KERNELS)) {
    if (!tf.getKernel(kernelName, 'webgpu')) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as never });
  }
}

/** Whether the fused BN/GELU kernels run for the current backend (webgpu with them registered). */
export function fusedBnGeluActive(): boolean {
  return tf.getBackend() === 'webgpu' && tf.getKernel(BN_STATS, 'webgpu') != null;
}
