// Sum and Mean over every axis but the last (per-channel reductions of NHWC tensors: BatchNorm's
// training statistics and the bias/BN-parameter gradients) for webgpu. tfjs-backend-webgpu 4.22
// reduces along the innermost axis only, so it first transposes [N,H,W,C] to [C, N*H*W] (a full
// copy) and then runs one workgroup per channel (the profile: 0.52 ms per Sum over
// [2,200,336,48], 35 calls a TinyViM-B step, plus the transposes).
// Algorithm: the input read as [R, C] (R = product of the leading axes), two passes.
//   pass 1 (ColumnSumPartialProgram): workgroup (16 x 16) = 16 consecutive columns (coalesced
//     loads) x 16 row lanes; workgroup (i, s) owns column tile i and the s-th chunk of rows; each
//     invocation strides over its chunk by 16 rows, then a shared-memory tree over the 16 lanes
//     writes the chunk's column sums to Partials [splits, C].
//   pass 2 (SplitKReduceProgram): sums the splits, times 1/R for a mean.
// The number of splits aims at ~2048 workgroups. Shapes it was written for: [2, 200, 336, 48] down
// to [2, 25, 42, 384] (R 2100..134400, C 24..768).
import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform, TI, WebGPUBackendLike, WebGPUProgramLike } from './program';
import { MAX_WORKGROUPS_PER_DIM, int32Uniforms } from './program';
import { SplitKReduceProgram } from './split_k_reduce';

const TX = 16;
const TY = 16;
const TARGET_WORKGROUPS = 2048;
/** Fewest rows routed here; shorter columns stay with tfjs's reduction. */
export const MIN_ROWS = 256;

export class ColumnSumPartialProgram implements WebGPUProgramLike {
  readonly variableNames = ['X'];
  readonly outputShape: number[];
  shaderKey = 'tvdColumnSumPartial';
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = 'rows : i32, cols : i32, chunk : i32,';
  readonly splits: number;
  readonly chunk: number;

  constructor(
    readonly rows: number,
    readonly cols: number,
    targetWorkgroups = TARGET_WORKGROUPS,
  ) {
    const tiles = Math.ceil(cols / TX);
    const wanted = Math.min(Math.ceil(rows / TY), Math.max(1, Math.ceil(targetWorkgroups / tiles)), MAX_WORKGROUPS_PER_DIM);
    this.chunk = Math.ceil(rows / wanted);
    this.splits = Math.ceil(rows / this.chunk);
    this.outputShape = [this.splits, cols];
    this.dispatch = [tiles, this.splits, 1];
  }

  uniformData(): ProgramUniform[] {
    return int32Uniforms([this.rows, this.cols, this.chunk]);
  }

  getUserCode(): string {
    return `
      const TX : i32 = ${TX};
      const TY : i32 = ${TY};
      var<workgroup> red : array<f32, ${TX * TY}>;

      fn main() {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let col = i32(workgroupId.x) * TX + lx;
        let split = i32(workgroupId.y);
        let rStart = split * uniforms.chunk;
        let rEnd = min(rStart + uniforms.chunk, uniforms.rows);
        var acc = 0.0;
        if (col < uniforms.cols) {
          for (var r = rStart + ly; r < rEnd; r = r + TY) {
            // f32(): tfjs's bool -> float32 Cast keeps the bool buffer (same dataId), so the shader
            // declares X by the stored dtype (i32) although the tensor is float32.
            acc = acc + f32(X[r * uniforms.cols + col]);
          }
        }
        let li = ly * TX + lx;
        red[li] = acc;
        workgroupBarrier();
        for (var s = TY / 2; s > 0; s = s / 2) {
          if (ly < s) {
            red[li] = red[li] + red[li + s * TX];
          }
          workgroupBarrier();
        }
        if (ly == 0 && col < uniforms.cols) {
          result[split * uniforms.cols + col] = red[lx];
        }
      }
`;
  }
}

type Attrs = { axis: number | number[]; keepDims: boolean };

/** Whether a Sum/Mean of x over `axis` is a column reduction this module runs (float32, >= MIN_ROWS rows). */
export function coversReduction(x: TI, attrs: Attrs): boolean {
  if (x.dtype !== 'float32' || x.shape.length < 2) return false;
  const axes = [...tf.util.parseAxisParam(attrs.axis, x.shape as number[])].sort((a, b) => a - b);
  const r = x.shape.length;
  if (axes.length !== r - 1 || axes.some((a, i) => a !== i)) return false;
  return x.shape.slice(0, -1).reduce((a, b) => a * b, 1) >= MIN_ROWS;
}

/**
 * Sum (or mean) of x over all axes but the last, for inputs coversReduction accepts. Output [C], or
 * [1, ..., 1, C] with keepDims.
 */
export function columnReduceWebgpu(
  args: { inputs: { x: TI }; backend: unknown; attrs: Attrs },
  mean: boolean,
  targetWorkgroups = TARGET_WORKGROUPS,
): TI {
  const { x } = args.inputs;
  const backend = args.backend as WebGPUBackendLike;
  const cols = x.shape[x.shape.length - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const partial = new ColumnSumPartialProgram(rows, cols, targetWorkgroups);
  const parts = backend.runWebGPUProgram(partial, [x], 'float32', partial.uniformData());
  const outShape = args.attrs.keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [cols];
  const reduce = new SplitKReduceProgram(outShape, partial.splits, mean ? 1 / rows : 1);
  const out = backend.runWebGPUProgram(reduce, [parts], 'float32', reduce.uniformData());
  backend.disposeData(parts.dataId);
  return out;
}

/** Widest view [size / C, C] (C a power of two <= 64 dividing size) for a full reduction. */
function fullReductionColumns(size: number): number {
  for (const c of [64, 32, 16, 8, 4, 2]) if (size % c === 0) return c;
  return 1;
}

/**
 * Whether a Sum/Mean of x over every axis (to a scalar) runs here: float32 and at least MIN_ROWS
 * rows of the [size / C, C] view. tfjs reduces a whole tensor in one workgroup (the issue measured a
 * scalar sum of 205 MB at 57x the per-channel sum's time).
 */
export function coversFullReduction(x: TI, attrs: Attrs): boolean {
  if (x.dtype !== 'float32' || x.shape.length < 1) return false;
  const axes = new Set(tf.util.parseAxisParam(attrs.axis, x.shape as number[]));
  if (axes.size !== x.shape.length) return false;
  const size = x.shape.reduce((a, b) => a * b, 1);
  return size / fullReductionColumns(size) >= MIN_ROWS;
}

/**
 * Sum (or mean) of every element, for inputs coversFullReduction accepts: the data viewed as
 * [size / C, C] is column-reduced here (two passes, no transpose), then tfjs's Sum (`sumKernel`)
 * adds the C column sums. Output [] or, with keepDims, [1, ..., 1].
 */
export function fullReduceWebgpu(
  args: { inputs: { x: TI }; backend: unknown; attrs: Attrs },
  mean: boolean,
  sumKernel: (a: { inputs: { x: TI }; backend: unknown; attrs: Attrs }) => TI,
): TI {
  const { x } = args.inputs;
  const backend = args.backend as WebGPUBackendLike;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const cols = fullReductionColumns(size);
  const rows = size / cols;
  const partial = new ColumnSumPartialProgram(rows, cols);
  const parts = backend.runWebGPUProgram(partial, [x], 'float32', partial.uniformData());
  // Column sums shaped [1, ..., 1, C] (x's rank), so tfjs's Sum over every axis gives x's output shape.
  const colShape = [...x.shape.slice(0, -1).map(() => 1), cols];
  const reduce = new SplitKReduceProgram(colShape, partial.splits, mean ? 1 / size : 1);
  const colSums = backend.runWebGPUProgram(reduce, [parts], 'float32', reduce.uniformData());
  backend.disposeData(parts.dataId);
  const out = sumKernel({ inputs: { x: colSums }, backend: args.backend, attrs: { axis: colShape.map((_, i) => i), keepDims: args.attrs.keepDims } });
  backend.disposeData(colSums.dataId);
  return out;
}
