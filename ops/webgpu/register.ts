// Registers our webgpu kernels in place of tfjs-backend-webgpu's (by kernel name, so gradients and
// every op that dispatches to the name use them with no model change). Keeps the replaced kernel
// functions so benchmarks can time tfjs's originals against ours, and so cases our kernels do not
// cover (NCHW) still run. TVD_WEBGPU_KERNELS=tfjs in the environment keeps tfjs's kernels (except
// AddN, whose replacement is a fix, not a speed-up): the "before" side of a benchmark.
import * as tf from '@tensorflow/tfjs';
import { registerWebgpuAddN } from './add_n';
import { conv2DBackpropFilterWebgpu } from './conv2d_filter_grad';
import { depthwiseConv2dNativeBackpropFilterWebgpu } from './depthwise_filter_grad';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

const originals = new Map<string, KernelFunc>();

/** Our kernel per name; a `null` result means "not covered: run tfjs's original". */
const OURS: Record<string, (args: Args, original: KernelFunc) => tf.TensorInfo | tf.TensorInfo[]> = {
  DepthwiseConv2dNativeBackpropFilter: (args) => depthwiseConv2dNativeBackpropFilterWebgpu(args as never),
  Conv2DBackpropFilter: (args, original) =>
    (args.attrs as { dataFormat?: string }).dataFormat === 'NCHW' ? (original(args) as tf.TensorInfo) : conv2DBackpropFilterWebgpu(args as never),
};

/** Names of the tfjs webgpu kernels this project replaces. */
export const REPLACED_WEBGPU_KERNELS: readonly string[] = Object.keys(OURS);

/** Whether the environment asks to keep tfjs's kernels (TVD_WEBGPU_KERNELS=tfjs). */
export const keepTfjsKernels = (): boolean => typeof process !== 'undefined' && process.env?.TVD_WEBGPU_KERNELS === 'tfjs';

/**
 * Replaces the kernels of REPLACED_WEBGPU_KERNELS for 'webgpu' (idempotent). Needs
 * @tensorflow/tfjs-backend-webgpu imported first (its import registers the originals); a name with
 * no original registered is skipped.
 */
export function registerWebgpuKernels(opts: { keepTfjs?: boolean } = {}): void {
  registerWebgpuAddN();
  if (opts.keepTfjs ?? keepTfjsKernels()) return;
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
