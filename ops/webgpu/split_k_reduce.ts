// Second pass of the split-K filter gradients and column reductions: sums the per-split partial
// results Partials [splits, L] over the splits into an output of any shape with L elements (the
// filter), times `scale` (1, or 1/rows for a mean).
// Algorithm: workgroup (16 x 16) = 16 consecutive output elements (coalesced loads) x 16 split
// lanes; each invocation sums every 16th split of its element, then a shared-memory tree over the
// lanes. (One invocation per element looping over all splits was latency-bound: ~0.19 ms for 432
// elements x ~680 splits on an H200.) Tuned for L in the hundreds to millions and splits <= ~1024.
import type { ProgramUniform, WebGPUProgramLike } from './program';
import { int32Uniforms } from './program';

const TX = 16;
const TY = 16;

export class SplitKReduceProgram implements WebGPUProgramLike {
  readonly variableNames = ['Partials'];
  readonly outputShape: number[];
  shaderKey = 'tvdSplitKReduce';
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [TX, TY, 1];
  readonly uniforms = 'splits : i32, len : i32, scale : f32,';

  /** `outShape`: the result's shape (product L); `splits`: rows of Partials; `scale`: factor on each sum. */
  constructor(
    outShape: number[],
    readonly splits: number,
    readonly scale = 1,
  ) {
    this.outputShape = outShape;
    this.dispatchLayout = { x: outShape.map((_, i) => i) };
    const len = outShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(len / TX), 1, 1];
  }

  uniformData(): ProgramUniform[] {
    return [...int32Uniforms([this.splits, this.outputShape.reduce((a, b) => a * b, 1)]), { type: 'float32', data: [this.scale] }];
  }

  getUserCode(): string {
    // tfjs may reshape a dispatch wider than 65535 workgroups into 2-D/3-D: use the linear index.
    return `
      var<workgroup> red : array<f32, ${TX * TY}>;

      fn main(index : i32) {
        let lx = i32(localId.x);
        let ly = i32(localId.y);
        let wg = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
        let e = wg * ${TX} + lx;
        var acc = 0.0;
        if (e < uniforms.len) {
          for (var s = ly; s < uniforms.splits; s = s + ${TY}) {
            acc = acc + Partials[s * uniforms.len + e];
          }
        }
        let li = ly * ${TX} + lx;
        red[li] = acc;
        workgroupBarrier();
        for (var s = ${TY / 2}; s > 0; s = s / 2) {
          if (ly < s) {
            red[li] = red[li] + red[li + s * ${TX}];
          }
          workgroupBarrier();
        }
        if (ly == 0 && e < uniforms.len) {
          result[e] = red[lx] * uniforms.scale;
        }
      }
`;
  }
}
