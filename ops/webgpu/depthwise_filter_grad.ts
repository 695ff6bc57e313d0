// DepthwiseConv2dNativeBackpropFilter for webgpu (NHWC), replacing tfjs-backend-webgpu 4.22's
// program, which gives each filter element one invocation that loops serially over batch x H x W
// (~62 ms for a 3x3 filter over [2,200,336,48] on an H200).
//
//   dW[kh, kw, c, m] = sum over (n, oh, ow) of
//       x[n, oh*sh - padTop + kh*dh, ow*sw - padLeft + kw*dw, c] * dy[n, oh, ow, c*M + m]
//
// Algorithm: a split reduction over the P = N*OH*OW output positions, two passes.
//   pass 1 (DepthwiseFilterGradPartialProgram): workgroup (16 x 16) = 16 consecutive output
//     channels (coalesced NHWC loads) x 16 position lanes; workgroup (i, s) owns channel tile i and
//     the s-th chunk of positions. Each invocation strides over its chunk by 16 positions and keeps
//     one accumulator per filter tap (KH*KW registers, a compile-time constant); then, tap by tap,
//     a shared-memory tree over the 16 position lanes leaves the chunk's sum, written to
//     Partials [splits, KH*KW*OC] (row layout = the filter's flat layout, OC = C*M).
//   pass 2 (SplitKReduceProgram): sums the splits.
// The number of splits aims at ~2048 workgroups in pass 1 (enough to fill a 132-SM H200 several
// times over) with at least 16 positions per chunk. Shapes it was written for: TinyViM's 3x3, 1x1,
// 7x1 and 1x7 depth-wise convolutions, stride 1, 24-384 channels, P up to 2*200*336.
import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform, TI, WebGPUBackendLike, WebGPUProgramLike } from './program';
import { MAX_WORKGROUPS_PER_DIM, i32Fields, int32Uniforms } from './program';
import { SplitKReduceProgram } from './split_k_reduce';

const TX = 16;
const TY = 16;
const TARGET_WORKGROUPS = 2048;

const FIELDS = ['inH', 'inW', 'inC', 'outH', 'outW', 'outC', 'chanMul', 'strideH', 'strideW', 'padTop', 'padLeft', 'dilH', 'dilW', 'positions', 'chunk'];

/** Pass 1: partial filter gradients per chunk of positions; output [splits, KH*KW*OC]. */
export class DepthwiseFilterGradPartialProgram implements WebGPUProgramLike {
  readonly variableNames = ['X', 'Dy'];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = i32Fields(FIELDS);
  readonly splits: number;
  readonly chunk: number;

  /** `targetWorkgroups`: how many workgroups the split should aim at (tests use tiny values to get long chunks). */
  constructor(
    readonly info: tf.backend_util.Conv2DInfo,
    targetWorkgroups = TARGET_WORKGROUPS,
  ) {
    const { batchSize, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
    const positions = batchSize * outHeight * outWidth;
    const tiles = Math.ceil(outChannels / TX);
    const wanted = Math.min(Math.ceil(positions / TY), Math.max(1, Math.ceil(targetWorkgroups / tiles)), MAX_WORKGROUPS_PER_DIM);
    this.chunk = Math.ceil(positions / wanted);
    this.splits = Math.ceil(positions / this.chunk);
    this.outputShape = [this.splits, filterHeight * filterWidth * outChannels];
    this.dispatch = [tiles, this.splits, 1];
    this.shaderKey = `tvdDwFilterGrad_${filterHeight}_${filterWidth}`;
  }

  uniformData(): ProgramUniform[] {
    const i = this.info;
    return int32Uniforms([
      i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels, i.outChannels / i.inChannels,
      i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.dilationHeight, i.dilationWidth,
      i.batchSize * i.outHeight * i.outWidth, this.chunk,
    ]);
  }

  getUserCode(): string {
    const { filterHeight: KH, filterWidth: KW } = this.info;
    return `
      const KH : i32 = ${KH};
      const KW : i32 = ${KW};
      const TAPS : i32 = ${KH * KW};
      const TX : i32 = ${TX};
      const TY : i32 = ${TY};
      var<workgroup> red : array<f32, ${TX * TY}>;

      fn main() {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let oc = i32(workgroupId.x) * TX + lx;
        let split = i32(workgroupId.y);
        let pStart = split * uniforms.chunk;
        let pEnd = min(pStart + uniforms.chunk, uniforms.positions);
        var acc : array<f32, TAPS>;
        for (var t = 0; t < TAPS; t = t + 1) {
          acc[t] = 0.0;
        }
        if (oc < uniforms.outC) {
          let c = oc / uniforms.chanMul;
          for (var p = pStart + ly; p < pEnd; p = p + TY) {
            let ow = p % uniforms.outW;
            let q = p / uniforms.outW;
            let oh = q % uniforms.outH;
            let n = q / uniforms.outH;
            let g = Dy[p * uniforms.outC + oc];
            let ih0 = oh * uniforms.strideH - uniforms.padTop;
            let iw0 = ow * uniforms.strideW - uniforms.padLeft;
            for (var kh = 0; kh < KH; kh = kh + 1) {
              let ih = ih0 + kh * uniforms.dilH;
              if (ih < 0 || ih >= uniforms.inH) {
                continue;
              }
              let rowBase = (n * uniforms.inH + ih) * uniforms.inW;
              for (var kw = 0; kw < KW; kw = kw + 1) {
                let iw = iw0 + kw * uniforms.dilW;
                if (iw >= 0 && iw < uniforms.inW) {
                  acc[kh * KW + kw] = acc[kh * KW + kw] + X[(rowBase + iw) * uniforms.inC + c] * g;
                }
              }
            }
          }
        }
        // Tree over the TY position lanes, one tap at a time (shared memory holds TX*TY floats).
        let li = ly * TX + lx;
        for (var t = 0; t < TAPS; t = t + 1) {
          red[li] = acc[t];
          workgroupBarrier();
          for (var s = TY / 2; s > 0; s = s / 2) {
            if (ly < s) {
              red[li] = red[li] + red[li + s * TX];
            }
            workgroupBarrier();
          }
          if (ly == 0 && oc < uniforms.outC) {
            result[(split * TAPS + t) * uniforms.outC + oc] = red[lx];
          }
          workgroupBarrier();
        }
      }
`;
  }
}

type Attrs = {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
};

/**
 * Kernel function: inputs x [N,H,W,C] and dy [N,OH,OW,C*M] (float32, NHWC), attrs as tfjs's
 * DepthwiseConv2dNativeBackpropFilter; returns dW [KH,KW,C,M].
 */
export function depthwiseConv2dNativeBackpropFilterWebgpu(args: { inputs: { x: TI; dy: TI }; backend: unknown; attrs: Attrs }): TI {
  const { inputs, attrs } = args;
  const backend = args.backend as WebGPUBackendLike;
  const info = tf.backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  return depthwiseFilterGrad(backend, inputs.x, inputs.dy, info);
}

/** The two passes on a prepared depth-wise Conv2DInfo (NHWC); returns dW [KH,KW,C,M]. */
export function depthwiseFilterGrad(backend: WebGPUBackendLike, x: TI, dy: TI, info: tf.backend_util.Conv2DInfo, targetWorkgroups = TARGET_WORKGROUPS): TI {
  const partial = new DepthwiseFilterGradPartialProgram(info, targetWorkgroups);
  const parts = backend.runWebGPUProgram(partial, [x, dy], 'float32', partial.uniformData());
  const reduce = new SplitKReduceProgram(info.filterShape, partial.splits);
  const out = backend.runWebGPUProgram(reduce, [parts], 'float32', reduce.uniformData());
  backend.disposeData(parts.dataId);
  return out;
}
