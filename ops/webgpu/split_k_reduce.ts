// Second pass of the split-K filter gradients: sums the per-split partial results
// Partials [splits, L] over the splits into an output of any shape with L elements (the filter).
// Algorithm: one invocation per output element, serial loop over the splits; consecutive
// invocations read consecutive addresses of each split's row, so every load is coalesced. Tuned for
// L in the hundreds to hundred-thousands and splits <= ~1024 (what the first passes produce).
import type { ProgramUniform, WebGPUProgramLike } from './program';
import { int32Uniforms } from './program';

const WORKGROUP = 256;

export class SplitKReduceProgram implements WebGPUProgramLike {
  readonly variableNames = ['Partials'];
  readonly outputShape: number[];
  shaderKey = 'tvdSplitKReduce';
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly uniforms = 'splits : i32, len : i32,';

  /** `outShape`: the result's shape (product L); `splits`: rows of Partials. */
  constructor(
    outShape: number[],
    readonly splits: number,
  ) {
    this.outputShape = outShape;
    this.dispatchLayout = { x: outShape.map((_, i) => i) };
    const len = outShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(len / WORKGROUP), 1, 1];
  }

  uniformData(): ProgramUniform[] {
    return int32Uniforms([this.splits, this.outputShape.reduce((a, b) => a * b, 1)]);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index >= uniforms.len) {
          return;
        }
        var acc = 0.0;
        for (var s = 0; s < uniforms.splits; s = s + 1) {
          acc = acc + Partials[s * uniforms.len + index];
        }
        result[index] = acc;
      }
`;
  }
}
