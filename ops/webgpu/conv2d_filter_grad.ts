// Conv2DBackpropFilter for webgpu (NHWC), replacing tfjs-backend-webgpu 4.22's program, which gives
// each filter element one invocation that loops serially over batch x H x W (the TinyViM stem's
// 3x3 stride-2 filter gradient alone took 204 ms on an H200).
//
// Algorithm: implicit GEMM with split-K, two passes.
//   dW[(kh, kw, ci), co] = sum over p = (n, oh, ow) of A[(kh, kw, ci), p] * dy[p, co]
//   with A[(kh, kw, ci), p] = x[n, oh*sh - padTop + kh*dh, ow*sw - padLeft + kw*dw, ci] (0 outside),
//   i.e. an [M = KH*KW*CI] x [P = N*OH*OW] x [CO] matrix product whose A operand (the transposed
//   im2col of x) is gathered on the fly and never stored. The row index (kh, kw, ci) is exactly the
//   flat layout of the filter [KH, KW, CI, CO], so a 1x1 stride-1 filter gradient is the plain
//   matmul x^T . dy over the flattened N*H*W.
//   pass 1 (Conv2DFilterGradPartialProgram): 64 x 64 output tile per workgroup of 256 invocations,
//     loads without integer division in the K loop (positions advance incrementally),
//     each computing a 4 x 4 register block (rows ty + 16 i, columns tx + 16 j: conflict-free
//     shared-memory reads); K (= positions) is walked in steps of 16 through shared-memory tiles
//     As [16][64] and Bs [16][64], loaded with consecutive invocations on consecutive channels
//     (coalesced NHWC reads). Workgroup z owns one chunk of positions (split-K) and writes its
//     partial product to Partials [splits, M*CO].
//   pass 2 (SplitKReduceProgram): sums the splits.
// The number of splits aims at ~1024 workgroups in pass 1. Written for TinyViM's 3x3 stride-2 stem
// and down-sampling convolutions (CI 3..384, CO 24..768, P up to 2*400*672) and any 1x1 conv.
import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform, TI, WebGPUBackendLike, WebGPUProgramLike } from './program';
import { MAX_WORKGROUPS_PER_DIM, i32Fields, int32Uniforms } from './program';
import { SplitKReduceProgram } from './split_k_reduce';

// TM == TN: one invocation loads the same column index of As and Bs.
const TM = 64;
const TN = 64;
const BK = 16;
const TARGET_WORKGROUPS = 1024;

const FIELDS = ['filterW', 'inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'strideH', 'strideW', 'padTop', 'padLeft', 'dilH', 'dilW', 'rowsM', 'positions', 'chunk', 'steps'];

/** Pass 1: partial products per chunk of positions; output [splits, KH*KW*CI*CO]. */
export class Conv2DFilterGradPartialProgram implements WebGPUProgramLike {
  readonly variableNames = ['X', 'Dy'];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [256, 1, 1];
  readonly uniforms = i32Fields(FIELDS);
  readonly splits: number;
  readonly chunk: number;
  readonly rowsM: number;

  /** `targetWorkgroups`: how many workgroups the split-K should aim at (tests use tiny values to get long chunks). */
  constructor(
    readonly info: tf.backend_util.Conv2DInfo,
    targetWorkgroups = TARGET_WORKGROUPS,
  ) {
    const { batchSize, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
    const positions = batchSize * outHeight * outWidth;
    this.rowsM = filterHeight * filterWidth * inChannels;
    const tilesM = Math.ceil(this.rowsM / TM);
    const tilesN = Math.ceil(outChannels / TN);
    const wanted = Math.min(Math.ceil(positions / BK), Math.max(1, Math.ceil(targetWorkgroups / (tilesM * tilesN))), MAX_WORKGROUPS_PER_DIM);
    this.chunk = Math.ceil(Math.ceil(positions / wanted) / BK) * BK;
    this.splits = Math.ceil(positions / this.chunk);
    this.outputShape = [this.splits, this.rowsM * outChannels];
    this.dispatch = [tilesM, tilesN, this.splits];
    // One shader for every filter size: SwiftShader (CI) takes seconds to compile each variant.
    this.shaderKey = 'tvdConvFilterGrad';
  }

  uniformData(): ProgramUniform[] {
    const i = this.info;
    return int32Uniforms([
      i.filterWidth, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels,
      i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.dilationHeight, i.dilationWidth,
      this.rowsM, i.batchSize * i.outHeight * i.outWidth, this.chunk, this.chunk / BK,
    ]);
  }

  getUserCode(): string {
    return `
      const TM : i32 = ${TM};
      const TN : i32 = ${TN};
      const BK : i32 = ${BK};
      var<workgroup> As : array<f32, ${BK * TM}>;
      var<workgroup> Bs : array<f32, ${BK * TN}>;

      fn main() {
        let tid = i32(localIndex);
        let tx = tid % 16;
        let ty = tid / 16;
        let m0 = i32(workgroupId.x) * TM;
        let n0 = i32(workgroupId.y) * TN;
        let split = i32(workgroupId.z);
        let pStart = split * uniforms.chunk;
        let pEnd = min(pStart + uniforms.chunk, uniforms.positions);
        var acc : array<f32, 16>;
        for (var i = 0; i < 16; i = i + 1) {
          acc[i] = 0.0;
        }
        // Loads: invocation tid fills As/Bs column mm = tid % 64 (the same for its 4 loads, as
        // 256 % 64 == 0) at rows kk = tid / 64 + 4 r. The filter row m = (kh, kw, ci) is decomposed
        // once; each load's position p = (n, oh, ow) is decomposed once and then advanced by BK per
        // step, so the loop has no integer division.
        let mm = tid % TM;
        let m = m0 + mm;
        let mValid = m < uniforms.rowsM;
        let ci = m % uniforms.inC;
        let tap = m / uniforms.inC;
        let kh = tap / uniforms.filterW;
        let kw = tap - kh * uniforms.filterW;
        let offH = kh * uniforms.dilH - uniforms.padTop;
        let offW = kw * uniforms.dilW - uniforms.padLeft;
        let co = n0 + mm;
        let coValid = co < uniforms.outC;
        var pn : array<i32, 4>;
        var poh : array<i32, 4>;
        var pw : array<i32, 4>;
        for (var r = 0; r < 4; r = r + 1) {
          let p = pStart + tid / TM + 4 * r;
          pw[r] = p % uniforms.outW;
          let q = p / uniforms.outW;
          poh[r] = q % uniforms.outH;
          pn[r] = q / uniforms.outH;
        }
        // Loop bound from uniforms only (workgroupBarrier needs uniform control flow); the last
        // chunk's extra steps load zeros.
        for (var step = 0; step < uniforms.steps; step = step + 1) {
          let k0 = pStart + step * BK;
          for (var r = 0; r < 4; r = r + 1) {
            let kk = tid / TM + 4 * r;
            let p = k0 + kk;
            var av = 0.0;
            var bv0 = 0.0;
            if (p < pEnd) {
              let ih = poh[r] * uniforms.strideH + offH;
              let iw = pw[r] * uniforms.strideW + offW;
              if (mValid && ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
                av = X[((pn[r] * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci];
              }
              if (coValid) {
                bv0 = Dy[p * uniforms.outC + co];
              }
            }
            As[kk * TM + mm] = av;
            Bs[kk * TN + mm] = bv0;
            // Advance this load's position by BK (divisions only when it leaves its output row).
            pw[r] = pw[r] + BK;
            if (pw[r] >= uniforms.outW) {
              let rowsUp = pw[r] / uniforms.outW;
              pw[r] = pw[r] - rowsUp * uniforms.outW;
              poh[r] = poh[r] + rowsUp;
              if (poh[r] >= uniforms.outH) {
                let imgsUp = poh[r] / uniforms.outH;
                poh[r] = poh[r] - imgsUp * uniforms.outH;
                pn[r] = pn[r] + imgsUp;
              }
            }
          }
          workgroupBarrier();
          for (var kk = 0; kk < BK; kk = kk + 1) {
            var a : array<f32, 4>;
            var bv : array<f32, 4>;
            for (var i = 0; i < 4; i = i + 1) {
              a[i] = As[kk * TM + ty + 16 * i];
              bv[i] = Bs[kk * TN + tx + 16 * i];
            }
            for (var i = 0; i < 4; i = i + 1) {
              for (var j = 0; j < 4; j = j + 1) {
                acc[i * 4 + j] = acc[i * 4 + j] + a[i] * bv[j];
              }
            }
          }
          workgroupBarrier();
        }
        let base = split * uniforms.rowsM * uniforms.outC;
        for (var i = 0; i < 4; i = i + 1) {
          let row = m0 + ty + 16 * i;
          if (row >= uniforms.rowsM) {
            continue;
          }
          for (var j = 0; j < 4; j = j + 1) {
            let col = n0 + tx + 16 * j;
            if (col < uniforms.outC) {
              result[base + row * uniforms.outC + col] = acc[i * 4 + j];
            }
          }
        }
      }
`;
  }
}

type Attrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: [number, number] | number;
};

/**
 * Kernel function: x [N,H,W,CI], dy [N,OH,OW,CO] (float32, NHWC), attrs as tfjs's
 * Conv2DBackpropFilter (its gradient passes no dilations: 1); returns dW [KH,KW,CI,CO].
 * Throws for NCHW (the registration falls back to tfjs's kernel before calling this).
 */
export function conv2DBackpropFilterWebgpu(args: { inputs: { x: TI; dy: TI }; backend: unknown; attrs: Attrs }): TI {
  const { inputs, attrs } = args;
  if (attrs.dataFormat === 'NCHW') throw new Error('conv2DBackpropFilterWebgpu: NHWC only');
  const backend = args.backend as WebGPUBackendLike;
  const info = tf.backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
  );
  return conv2DFilterGrad(backend, inputs.x, inputs.dy, info);
}

/**
 * The two passes on a prepared Conv2DInfo (NHWC); returns dW [KH,KW,CI,CO], or the same values in
 * `outShape` (same element count; the matmul path asks for [M, N]). x and dy are read as flat NHWC
 * buffers, so any shapes with those layouts and element counts work.
 */
export function conv2DFilterGrad(
  backend: WebGPUBackendLike,
  x: TI,
  dy: TI,
  info: tf.backend_util.Conv2DInfo,
  targetWorkgroups = TARGET_WORKGROUPS,
  outShape: number[] = info.filterShape,
): TI {
  const partial = new Conv2DFilterGradPartialProgram(info, targetWorkgroups);
  const parts = backend.runWebGPUProgram(partial, [x, dy], 'float32', partial.uniformData());
  const reduce = new SplitKReduceProgram(outShape, partial.splits);
  const out = backend.runWebGPUProgram(reduce, [parts], 'float32', reduce.uniformData());
  backend.disposeData(parts.dataId);
  return out;
}
