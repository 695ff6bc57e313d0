// The slice of tfjs-backend-webgpu's program contract our WGSL kernels use (duck-typed: nothing is
// imported from the backend package, the backend object arrives with each kernel call).
// tfjs builds each shader from: its own header (uniform struct with the shape fields of every input
// and of the output, then the fields named in `uniforms`), one `var<storage, read>` binding per name
// in `variableNames`, the output as `result`, then getUserCode(). With a dispatchLayout that has a
// `y` entry, tfjs calls `main()` with no index and the program reads the private copies of the
// builtins it sets up: `localId`, `localIndex`, `workgroupId`, `numWorkgroups`, `globalId`.
// Those copies are private variables, so WGSL's uniformity analysis treats them as non-uniform: a
// loop that contains workgroupBarrier() must take its bounds from `uniforms` or constants only.
import type * as tf from '@tensorflow/tfjs';

export type TI = tf.TensorInfo;

export interface ProgramUniform {
  type: 'int32' | 'float32' | 'uint32';
  data: number[];
}

/** What tfjs-backend-webgpu's runWebGPUProgram reads from a program object. */
export interface WebGPUProgramLike {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

export interface WebGPUBackendLike {
  runWebGPUProgram(program: WebGPUProgramLike, inputs: TI[], outputDtype: tf.DataType, uniforms?: ProgramUniform[]): TI;
  disposeData(dataId: object): boolean;
}

/** int32 uniforms in declaration order. */
export const int32Uniforms = (values: number[]): ProgramUniform[] => values.map((v) => ({ type: 'int32' as const, data: [v] }));

/** The i32 uniform struct fields for the given names, in order (`a : i32, b : i32,`). */
export const i32Fields = (names: string[]): string => names.map((n) => `${n} : i32,`).join(' ');

/** Largest workgroup count per dispatch dimension WebGPU guarantees. */
export const MAX_WORKGROUPS_PER_DIM = 65535;
