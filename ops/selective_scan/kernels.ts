// The selective scan as registered tfjs kernels, so the op runs through tf.engine().runKernel on
// every backend and never reads tensors back itself:
//   'TinyViMSelectiveScan'     inputs u, delta, A, B, C, D, deltaBias      -> y [batch, channels, L]
//   'TinyViMSelectiveScanGrad' the same inputs and dy                       -> packed per-row
//                              gradients [batch * channels, W] (layout: gradRowLayout)
// Attribute: deltaSoftplus (boolean). D and deltaBias are always given ([channels]; zeros when absent).
//
// cpu, wasm, webgl and tensorflow get a deliberate CPU kernel (backend.readSync + backend.write;
// cheap where tensors already live in host memory, correct everywhere readSync works). webgpu, where
// readSync is unavailable under Node, gets WGSL programs (ops/selective_scan/webgpu.ts).
import * as tf from '@tensorflow/tfjs';
import { type ScanInputs, gradRowLayout, selectiveScanForwardCpu, selectiveScanGradRowsCpu } from './cpu';
import { SCAN_GRAD_KERNEL, SCAN_KERNEL, type ScanKernelAttrs, orderedInputs, scanDimsOf } from './spec';
import { registerSelectiveScanWebgpu } from './webgpu';

export { SCAN_GRAD_KERNEL, SCAN_INPUT_NAMES, SCAN_KERNEL, type ScanKernelAttrs } from './spec';

type TI = tf.TensorInfo;
type Inputs = Record<string, TI>;
interface SyncBackend {
  readSync(dataId: unknown): tf.backend_util.BackendValues;
  write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): unknown;
}

const f32 = (v: tf.backend_util.BackendValues): Float32Array => (v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>));

function readInputs(be: SyncBackend, inputs: Inputs): ScanInputs {
  const r = (n: string) => f32(be.readSync(inputs[n].dataId));
  return { u: r('u'), delta: r('delta'), A: r('A'), B: r('B'), C: r('C'), D: r('D'), deltaBias: r('deltaBias') };
}

function output(be: SyncBackend, values: Float32Array, shape: number[]): TI {
  return { dataId: be.write(values, shape, 'float32') as object, shape, dtype: 'float32' };
}

function forwardCpuKernel({ inputs, backend, attrs }: { inputs: Inputs; backend: unknown; attrs: ScanKernelAttrs }): TI {
  const be = backend as SyncBackend;
  orderedInputs(inputs, false);
  const d = scanDimsOf(inputs);
  const y = selectiveScanForwardCpu(readInputs(be, inputs), d, attrs.deltaSoftplus);
  return output(be, y, [...inputs.u.shape]);
}

function gradCpuKernel({ inputs, backend, attrs }: { inputs: Inputs; backend: unknown; attrs: ScanKernelAttrs }): TI {
  const be = backend as SyncBackend;
  orderedInputs(inputs, true);
  const d = scanDimsOf(inputs);
  const dy = f32(be.readSync(inputs.dy.dataId));
  const packed = selectiveScanGradRowsCpu(readInputs(be, inputs), dy, d, attrs.deltaSoftplus);
  return output(be, packed, [d.batch * d.channels, gradRowLayout(d.length, d.dState).width]);
}

/** Backends whose tensors can be read synchronously: they run the CPU kernel. */
export const CPU_KERNEL_BACKENDS = ['cpu', 'wasm', 'webgl', 'tensorflow'] as const;

let registered = false;

/** Registers the scan kernels for every supported backend (idempotent; name-based, needs no backend loaded). */
export function registerSelectiveScanKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of CPU_KERNEL_BACKENDS) {
    if (!tf.getKernel(SCAN_KERNEL, backendName)) tf.registerKernel({ kernelName: SCAN_KERNEL, backendName, kernelFunc: forwardCpuKernel as never });
    if (!tf.getKernel(SCAN_GRAD_KERNEL, backendName)) tf.registerKernel({ kernelName: SCAN_GRAD_KERNEL, backendName, kernelFunc: gradCpuKernel as never });
  }
  registerSelectiveScanWebgpu();
}
