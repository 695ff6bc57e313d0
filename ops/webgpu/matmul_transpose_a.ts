// BatchMatMul with transposeA (aᵀ · b, a [K, M], b [K, N], one batch) for long K on webgpu: the
// weight gradient of every 1x1 convolution written as a matMul (nn/layers.ts Conv2d, Linear) has
// this form, with K = batch*H*W in the hundred-thousands and M, N in the tens to hundreds. tfjs's
// kernels give such products few workgroups (its split-K program adds partial sums with atomics);
// the issue measured a 1x1 filter gradient as tfjs's matmul at ~0.5 TFLOP/s.
// Algorithm: it is exactly a 1x1 stride-1 filter gradient (x = a as NHWC [1, 1, K, M], dy = b as
// [1, 1, K, N]: K along the width, where the kernel's position walk is cheapest), so it runs Conv2DBackpropFilter's split-K GEMM (ops/webgpu/conv2d_filter_grad.ts)
// with the output shaped [.., M, N]. Used when K >= MIN_K; otherwise tfjs's kernel runs.
import * as tf from '@tensorflow/tfjs';
import { conv2DFilterGrad } from './conv2d_filter_grad';
import type { TI, WebGPUBackendLike } from './program';

/** Shortest shared dimension routed here: below it tfjs's tiles already have enough work in parallel. */
export const MIN_K = 2048;

type Attrs = { transposeA: boolean; transposeB: boolean };

/** Whether aᵀ·b of these inputs runs here: float32, transposeA only, one batch, K >= MIN_K. */
export function coversMatMul(a: TI, b: TI, attrs: Attrs): boolean {
  if (!attrs.transposeA || attrs.transposeB || a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  if (a.shape.length < 2 || b.shape.length < 2) return false;
  const batch = (s: readonly number[]) => s.slice(0, -2).reduce((x, y) => x * y, 1);
  if (batch(a.shape) !== 1 || batch(b.shape) !== 1) return false;
  const K = a.shape[a.shape.length - 2];
  return K === b.shape[b.shape.length - 2] && K >= MIN_K;
}

/** aᵀ · b for inputs coversMatMul accepts; output [...leading 1s of the higher rank, M, N]. */
export function matMulTransposeAWebgpu(args: { inputs: { a: TI; b: TI }; backend: unknown; attrs: Attrs }, targetWorkgroups?: number): TI {
  const { a, b } = args.inputs;
  const K = a.shape[a.shape.length - 2];
  const M = a.shape[a.shape.length - 1];
  const N = b.shape[b.shape.length - 1];
  const info = tf.backend_util.computeConv2DInfo([1, 1, K, M], [1, 1, M, N], 1, 1, 'valid');
  const lead = new Array(Math.max(a.shape.length, b.shape.length) - 2).fill(1);
  return conv2DFilterGrad(args.backend as WebGPUBackendLike, a, b, info, targetWorkgroups, [...lead, M, N]);
}
