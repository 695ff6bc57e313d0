// WGSL programs of the selective scan for tfjs-backend-webgpu (where tensors cannot be read back
// synchronously under Node). One invocation owns one (batch, channel) row and loops over time with
// the dState (N) states in registers; N is a compile-time constant of the shader.
//   forward: y [batch, channels, L]
//   grad:    the packed per-row gradients of gradRowLayout (ops/selective_scan/cpu.ts), first
//            recomputing the row's states into the row's scratch region of the output, then walking
//            time backwards. selectiveScanGradRowsCpu is the same algorithm, statement for statement.
// Programs follow tfjs-backend-webgpu's contract: inputs are bound as `var<storage, read> <Name>:
// array<f32>` in variableNames order, the output as `result: array<f32>`, and `uniforms` carries
// the fields named in `uniforms` after the generated shape fields. Imports nothing from the webgpu
// package: registration is by backend name, and the backend object arrives with each call.
import * as tf from '@tensorflow/tfjs';
import { gradRowLayout } from './cpu';
import { SCAN_GRAD_KERNEL, SCAN_KERNEL, type ScanKernelAttrs, orderedInputs, scanDimsOf } from './spec';
import type { ScanDims } from './cpu';

type TI = tf.TensorInfo;
interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}
interface WebGPUBackendLike {
  runWebGPUProgram(program: object, inputs: TI[], outputDtype: tf.DataType, uniforms?: ProgramUniform[]): TI;
  disposeData(dataId: object): boolean;
}

const WORKGROUP = 64;
/**
 * Storage names of the scan programs' inputs (then Dy for the gradient). WebGPU guarantees only 8
 * storage buffers per shader stage and tfjs asks for no more, so A, D and deltaBias travel packed
 * as Params [channels, N + 2] (row c: A[c, 0..N-1], D[c], deltaBias[c]), made by ScanParamsProgram.
 */
const VARIABLES = ['U', 'Delta', 'Params', 'Bmat', 'Cmat'];

export type ScanProgramMode = 'forward' | 'grad';

/** WGSL shared by both programs: the step size and the row's indices. */
function prelude(N: number, softplusDelta: boolean): string {
  return `
      fn scanSoftplus(x : f32) -> f32 {
        if (x > 20.0) {
          return x;
        }
        return log(1.0 + exp(x));
      }
      fn scanSigmoid(x : f32) -> f32 {
        return 1.0 / (1.0 + exp(-x));
      }
      fn stepSize(raw : f32) -> f32 {
        return ${softplusDelta ? 'scanSoftplus(raw)' : 'raw'};
      }
      // dLoss/draw from dLoss/ddt, raw = delta + bias.
      fn stepSizeGrad(raw : f32, gdt : f32) -> f32 {
        ${softplusDelta ? 'if (raw > 20.0) { return gdt; }\n        return gdt * scanSigmoid(raw);' : 'return gdt;'}
      }
      const NSTATE : i32 = ${N};
      const PSTRIDE : i32 = ${N + 2};
  `;
}

const forwardMain = `
      fn main(index : i32) {
        let row = index;
        if (row >= uniforms.rows) {
          return;
        }
        let seqLen = uniforms.seqLen;
        let chan = row % uniforms.channels;
        let bat = row / uniforms.channels;
        let per = uniforms.channels / uniforms.groups;
        let grp = chan / per;
        let base = row * seqLen;
        let bc = (bat * uniforms.groups + grp) * NSTATE * seqLen;
        let bias = Params[chan * PSTRIDE + NSTATE + 1];
        let dskip = Params[chan * PSTRIDE + NSTATE];
        var a : array<f32, NSTATE>;
        var h : array<f32, NSTATE>;
        for (var n = 0; n < NSTATE; n = n + 1) {
          a[n] = Params[chan * PSTRIDE + n];
          h[n] = 0.0;
        }
        for (var t = 0; t < seqLen; t = t + 1) {
          let dt = stepSize(Delta[base + t] + bias);
          let ut = U[base + t];
          let dtu = dt * ut;
          var acc = 0.0;
          for (var n = 0; n < NSTATE; n = n + 1) {
            let o = bc + n * seqLen + t;
            h[n] = exp(dt * a[n]) * h[n] + dtu * Bmat[o];
            acc = acc + h[n] * Cmat[o];
          }
          result[base + t] = acc + dskip * ut;
        }
      }
`;

// Offsets inside a row follow gradRowLayout(L, N): du 0, ddelta L, dB 2L, dC 2L+NL, states
// 2L+2NL, dA 2L+3NL, dD dA+N, dBias dD+1; width dBias+1.
const gradMain = `
      fn main(index : i32) {
        let row = index;
        if (row >= uniforms.rows) {
          return;
        }
        let seqLen = uniforms.seqLen;
        let chan = row % uniforms.channels;
        let bat = row / uniforms.channels;
        let per = uniforms.channels / uniforms.groups;
        let grp = chan / per;
        let base = row * seqLen;
        let bc = (bat * uniforms.groups + grp) * NSTATE * seqLen;
        let bias = Params[chan * PSTRIDE + NSTATE + 1];
        let dskip = Params[chan * PSTRIDE + NSTATE];
        let nl = NSTATE * seqLen;
        let width = 2 * seqLen + 3 * nl + NSTATE + 2;
        let rowStart = row * width;
        let oDu = rowStart;
        let oDdelta = rowStart + seqLen;
        let oDB = rowStart + 2 * seqLen;
        let oDC = oDB + nl;
        let oStates = oDC + nl;
        let oDA = oStates + nl;
        let oDD = oDA + NSTATE;
        let oDBias = oDD + 1;
        var a : array<f32, NSTATE>;
        var h : array<f32, NSTATE>;
        var gh : array<f32, NSTATE>;
        var gA : array<f32, NSTATE>;
        for (var n = 0; n < NSTATE; n = n + 1) {
          a[n] = Params[chan * PSTRIDE + n];
          h[n] = 0.0;
          gh[n] = 0.0;
          gA[n] = 0.0;
        }
        // Forward recompute, states into this row's scratch region.
        for (var t = 0; t < seqLen; t = t + 1) {
          let dt = stepSize(Delta[base + t] + bias);
          let dtu = dt * U[base + t];
          for (var n = 0; n < NSTATE; n = n + 1) {
            let o = bc + n * seqLen + t;
            h[n] = exp(dt * a[n]) * h[n] + dtu * Bmat[o];
            result[oStates + t * NSTATE + n] = h[n];
          }
        }
        // Reverse pass: gh[n] = dLoss/dh_t[n] from y_t and from h_{t+1}.
        var gDc = 0.0;
        var gBiasc = 0.0;
        for (var t = seqLen - 1; t >= 0; t = t - 1) {
          let gyt = Dy[base + t];
          let ut = U[base + t];
          let raw = Delta[base + t] + bias;
          let dt = stepSize(raw);
          gDc = gDc + gyt * ut;
          var gut = gyt * dskip;
          var gdt = 0.0;
          for (var n = 0; n < NSTATE; n = n + 1) {
            let o = bc + n * seqLen + t;
            let bv = Bmat[o];
            let ht = result[oStates + t * NSTATE + n];
            var prev = 0.0;
            if (t > 0) {
              prev = result[oStates + (t - 1) * NSTATE + n];
            }
            result[oDC + n * seqLen + t] = gyt * ht;
            let gn = gh[n] + gyt * Cmat[o];
            let e = exp(dt * a[n]);
            let gE = gn * prev;
            gdt = gdt + gE * e * a[n] + gn * bv * ut;
            gA[n] = gA[n] + gE * e * dt;
            result[oDB + n * seqLen + t] = gn * dt * ut;
            gut = gut + gn * dt * bv;
            gh[n] = gn * e;
          }
          let gRaw = stepSizeGrad(raw, gdt);
          result[oDu + t] = gut;
          result[oDdelta + t] = gRaw;
          gBiasc = gBiasc + gRaw;
        }
        for (var n = 0; n < NSTATE; n = n + 1) {
          result[oDA + n] = gA[n];
        }
        result[oDD] = gDc;
        result[oDBias] = gBiasc;
      }
`;

/** Packs A [channels, N], D [channels], deltaBias [channels] into Params [channels, N + 2]. */
export class ScanParamsProgram {
  readonly variableNames = ['Amat', 'Dskip', 'DeltaBias'];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly uniforms = 'channels : i32,';

  constructor(readonly dims: ScanDims) {
    this.outputShape = [dims.channels, dims.dState + 2];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((dims.channels * (dims.dState + 2)) / WORKGROUP), 1, 1];
    this.shaderKey = `tinyvimSelectiveScanParams_${dims.dState}`;
  }

  uniformData(): ProgramUniform[] {
    return [{ type: 'int32', data: [this.dims.channels] }];
  }

  getUserCode(): string {
    const N = this.dims.dState;
    return `
      fn main(index : i32) {
        if (index >= uniforms.channels * ${N + 2}) {
          return;
        }
        let chan = index / ${N + 2};
        let k = index - chan * ${N + 2};
        if (k < ${N}) {
          result[index] = Amat[chan * ${N} + k];
        } else if (k == ${N}) {
          result[index] = Dskip[chan];
        } else {
          result[index] = DeltaBias[chan];
        }
      }
`;
  }
}

/** A tfjs-backend-webgpu program (duck-typed to its WebGPUProgram interface). */
export class SelectiveScanProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly uniforms = 'rows : i32, channels : i32, groups : i32, seqLen : i32,';

  constructor(
    readonly mode: ScanProgramMode,
    readonly dims: ScanDims,
    readonly softplusDelta: boolean,
  ) {
    const { batch, channels, length, dState } = dims;
    const rows = batch * channels;
    this.variableNames = mode === 'grad' ? [...VARIABLES, 'Dy'] : [...VARIABLES];
    this.outputShape = mode === 'grad' ? [rows, gradRowLayout(length, dState).width] : [batch, channels, length];
    // Flat layout: getGlobalIndex() is the row; one invocation per row, not per output element.
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.dispatch = [Math.ceil(rows / WORKGROUP), 1, 1];
    this.shaderKey = `tinyvimSelectiveScan_${mode}_${dState}_${softplusDelta ? 'sp' : 'raw'}`;
  }

  /** Values of the program-defined uniforms, in declaration order. */
  uniformData(): ProgramUniform[] {
    const { batch, channels, groups, length } = this.dims;
    return [batch * channels, channels, groups, length].map((v) => ({ type: 'int32' as const, data: [v] }));
  }

  getUserCode(): string {
    return prelude(this.dims.dState, this.softplusDelta) + (this.mode === 'grad' ? gradMain : forwardMain);
  }
}

type KernelArgs = { inputs: Record<string, TI>; backend: unknown; attrs: ScanKernelAttrs };

function run(mode: ScanProgramMode, { inputs, backend, attrs }: KernelArgs): TI {
  const list = orderedInputs(inputs, mode === 'grad');
  for (const t of list) if (t.dtype !== 'float32') throw new Error(`${SCAN_KERNEL} (webgpu): inputs must be float32, got ${t.dtype}`);
  const be = backend as WebGPUBackendLike;
  const dims = scanDimsOf(inputs);
  const packer = new ScanParamsProgram(dims);
  const params = be.runWebGPUProgram(packer, [inputs.A, inputs.D, inputs.deltaBias], 'float32', packer.uniformData());
  const program = new SelectiveScanProgram(mode, dims, attrs.deltaSoftplus);
  const scanInputs = [inputs.u, inputs.delta, params, inputs.B, inputs.C];
  if (mode === 'grad') scanInputs.push(inputs.dy);
  const out = be.runWebGPUProgram(program, scanInputs, 'float32', program.uniformData());
  be.disposeData(params.dataId);
  return out;
}

let registered = false;

/** Registers the webgpu kernels of the scan (idempotent). */
export function registerSelectiveScanWebgpu(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, ScanProgramMode][] = [
    [SCAN_KERNEL, 'forward'],
    [SCAN_GRAD_KERNEL, 'grad'],
  ];
  for (const [kernelName, mode] of kernels) {
    if (!tf.getKernel(kernelName, 'webgpu')) tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: ((args: KernelArgs) => run(mode, args)) as never });
  }
}
