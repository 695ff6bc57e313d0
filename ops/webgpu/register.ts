// Registers our webgpu kernels in place of tfjs-backend-webgpu's (by kernel name, so gradients and
// every op that dispatches to the name use them with no model change). Keeps the replaced kernel
// functions so benchmarks can time tfjs's originals against ours, and so cases our kernels do not
// cover (NCHW filter gradients, matmuls other than a long aᵀ·b, reductions other than per-channel)
// still run. TVD_WEBGPU_KERNELS=tfjs in the environment keeps tfjs's kernels (except
// AddN, whose replacement is a fix, not a speed-up): the "before" side of a benchmark.
import * as tf from '@tensorflow/tfjs';
import { registerWebgpuAddN } from './add_n';
import { registerWebgpuBnGelu } from './bn_gelu_webgpu';
import { columnReduceWebgpu, coversFullReduction, coversReduction, fullReduceWebgpu } from './column_reduce';
import { conv2DBackpropFilterWebgpu } from './conv2d_filter_grad';
import { depthwiseConv2dNativeBackpropFilterWebgpu } from './depthwise_filter_grad';
import { installDispatchCache } from './dispatch_cache';
import { coversMatMul, matMulTransposeAWebgpu } from './matmul_transpose_a';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

const originals = new Map<string, KernelFunc>();

/** Our kernel per name; cases it does not cover call tfjs's original. */
const OURS: Record<string, (args: Args, original: KernelFunc) => tf.TensorInfo | tf.TensorInfo[]> = {
  DepthwiseConv2dNativeBackpropFilter: (args) => depthwiseConv2dNativeBackpropFilterWebgpu(args as never),
  Conv2DBackpropFilter: (args, original) =>
    (args.attrs as { dataFormat?: string }).dataFormat === 'NCHW' ? (original(args) as tf.TensorInfo) : conv2DBackpropFilterWebgpu(args as never),
  // aᵀ·b with a long shared dimension (1x1-conv weight gradients); every other matmul stays tfjs's.
  BatchMatMul: (args, original) => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    return coversMatMul(a, b, args.attrs as never) ? matMulTransposeAWebgpu(args as never) : original(args);
  },
  // Per-channel (all axes but the last) and full reductions; every other reduction stays tfjs's.
  Sum: (args, original) => reduction(args, original, false),
  Mean: (args, original) => reduction(args, original, true),
};

function reduction(args: Args, original: KernelFunc, mean: boolean): tf.TensorInfo | tf.TensorInfo[] {
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  if (coversReduction(x, args.attrs as never)) return columnReduceWebgpu(args as never, mean);
  const sum = originals.get('Sum');
  if (sum && coversFullReduction(x, args.attrs as never)) return fullReduceWebgpu(args as never, mean, sum as never);
  return original(args);
}

/** Names of the tfjs webgpu kernels this project replaces. */
export const REPLACED_WEBGPU_KERNELS: readonly string[] = Object.keys(OURS);

/** Whether the environment asks to keep tfjs's kernels (TVD_WEBGPU_KERNELS=tfjs). */
export const keepTfjsKernels = (): boolean => typeof process !== 'undefined' && process.env?.TVD_WEBGPU_KERNELS === 'tfjs';

/**
 * Replaces the kernels of REPLACED_WEBGPU_KERNELS for 'webgpu' (idempotent) and installs the cached
 * dispatch path on the webgpu backend if it is already initialised (call after setBackend). Needs
 * @tensorflow/tfjs-backend-webgpu imported first (its import registers the originals); a name with
 * no original registered is skipped.
 */
export function registerWebgpuKernels(opts: { keepTfjs?: boolean } = {}): void {
  registerWebgpuAddN();
  // The cached per-dispatch host path (dispatch_cache.ts) on the webgpu backend instance, when one
  // exists; TVD_WEBGPU_DISPATCH_CACHE=0 keeps tfjs's.
  const backend = tf.engine().registry.webgpu;
  if (backend) installDispatchCache(backend);
  if (opts.keepTfjs ?? keepTfjsKernels()) return;
  // Conv2DBackpropInput: tfjs's implicit-GEMM program (Conv2DDerInputMMProgram) instead of its
  // default per-element loop; it matches the cpu backend on the shapes of test/webgpu_kernels.test.ts.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
  // Fused BatchNorm-train/GELU kernels (new names; ops/fused_ops.ts uses them when registered).
  // TVD_FUSED_BN_GELU=0 keeps the composites (the "before" side of a dispatch count or benchmark).
  if (process.env?.TVD_FUSED_BN_GELU !== '0') registerWebgpuBnGelu();
  for (const [name, ours] of Object.entries(OURS)) {
    if (originals.has(name)) continue;
    const original = tf.getKernel(name, 'webgpu');
    if (!original) continue;
    const run = original.kernelFunc;
    originals.set(name, run);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: ((args: Args) => ours(args, run)) as KernelFunc });
  }
}

/** tfjs's own kernel function for a replaced name (undefined before registerWebgpuKernels). */
export function tfjsWebgpuKernel(name: string): KernelFunc | undefined {
  return originals.get(name);
}
