// Fused optimizer updates: ONE kernel call per optimizer step that updates every parameter and its
// state in place, instead of ~14 element-wise ops per parameter (each a dispatch on webgpu, each JS
// scalar operand a host upload). Kernels (inputs named p<k>, g<k> and state m<k>/v<k> or b<k>,
// k = 0..count-1; attrs: count, hyper (HYPER_WIDTH numbers per parameter), flags; no outputs:
// the parameter and state tensors' storage is updated in place):
//   'TvdFusedAdamW'  torch.optim.AdamW (single-tensor path), as engine/optimizers.ts AdamW
//   'TvdFusedSGD'    torch.optim.SGD (momentum, dampening, nesterov, weight decay), as SGD there
// Registered for 'cpu' here (JS loops over the backend's own Float32Arrays) and for 'webgpu' in
// ops/webgpu/optimizer_update_webgpu.ts (one WGSL dispatch per parameter, hyper-parameters in one
// uniform buffer per step). Other backends (wasm, webgl, tensorflow) keep the op-by-op path of engine/optimizers.ts.
//
// Numbers: every statement of adamwUpdate / sgdUpdate is one op of the op-by-op formula, rounded to
// float32 (Math.fround) exactly where a float32 tensor would hold the op's result, so on cpu the fused
// update is bit-identical to the op path (test/optimizer_fused.test.ts). The WGSL shaders are the same
// statements in f32.
//
// In-place contract: the caller (engine/optimizers.ts) passes parameter and state tensors whose
// storage no other tensor shares (backend refCount 1); gradients are only read.
import * as tf from '@tensorflow/tfjs';

export const FUSED_ADAMW = 'TvdFusedAdamW';
export const FUSED_SGD = 'TvdFusedSGD';

/** Numbers per parameter in attrs.hyper. */
export const HYPER_WIDTH = 8;

/**
 * AdamW per-parameter record (float32 values, as the op path's scalar tensors hold them):
 * [hasDecay (0|1), decay = 1 - lr*wd, 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps, lr / (1 - beta1^t), ].
 */
export function adamwHyper(lr: number, wd: number, betas: [number, number], eps: number, t: number): number[] {
  const [b1, b2] = betas;
  const f = Math.fround;
  return [wd !== 0 ? 1 : 0, f(1 - lr * wd), f(1 - b1), f(b2), f(1 - b2), f(Math.sqrt(1 - b2 ** t)), f(eps), f(lr / (1 - b1 ** t))];
}

/** SGD per-parameter record: [hasWd (0|1), wd, lr, momentum, 1 - dampening, first step (0|1), 0, 0]. */
export function sgdHyper(lr: number, wd: number, momentum: number, dampening: number, first: boolean): number[] {
  const f = Math.fround;
  return [wd !== 0 ? 1 : 0, f(wd), f(lr), f(momentum), f(1 - dampening), first ? 1 : 0, 0, 0];
}

/** SGD flags (attrs.flags), shader variants on webgpu. */
export interface SgdFlags {
  momentum: boolean;
  dampening: boolean;
  nesterov: boolean;
}

const f = Math.fround;

/**
 * AdamW over whole arrays, in place (`h[o..o+7]` = the record of adamwHyper). Each statement is one op
 * of the op path, rounded to float32 where that op's result tensor would round it.
 */
export function adamwUpdate(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: ArrayLike<number>, o = 0): void {
  const hasDecay = h[o] !== 0;
  const [decay, c1, b2, c2, bc2Sqrt, eps, stepSize] = [h[o + 1], h[o + 2], h[o + 3], h[o + 4], h[o + 5], h[o + 6], h[o + 7]];
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    const mi = m[i];
    const decayed = hasDecay ? f(p[i] * decay) : p[i];
    const m1 = f(mi + f(f(gi - mi) * c1));
    const v1 = f(f(v[i] * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(v1)) / bc2Sqrt) + eps);
    m[i] = m1;
    v[i] = v1;
    p[i] = f(decayed - f(f(m1 / denom) * stepSize));
  }
}

/** SGD over whole arrays, in place; `b` (momentum buffer) is null without momentum. */
export function sgdUpdate(p: Float32Array, g: Float32Array, b: Float32Array | null, h: ArrayLike<number>, flags: SgdFlags, o = 0): void {
  const hasWd = h[o] !== 0;
  const [wd, lr, mom, omd] = [h[o + 1], h[o + 2], h[o + 3], h[o + 4]];
  const first = h[o + 5] !== 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i];
    let d = hasWd ? f(g[i] + f(pi * wd)) : g[i];
    if (flags.momentum && b) {
      const buf = first ? d : f(f(b[i] * mom) + (flags.dampening ? f(d * omd) : d));
      b[i] = buf;
      d = flags.nesterov ? f(d + f(buf * mom)) : buf;
    }
    p[i] = f(pi - f(d * lr));
  }
}

interface Attrs {
  count: number;
  hyper: number[];
  flags?: SgdFlags;
}
type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Attrs };

/** The cpu backend's own storage of a float32 tensor (mutated in place). */
function hostValues(backend: unknown, t: tf.TensorInfo): Float32Array {
  const values = (backend as { data: { get(id: object): { values: unknown } } }).data.get(t.dataId as object).values;
  if (!(values instanceof Float32Array)) throw new Error('fused optimizer update (cpu): expected float32 storage');
  return values;
}

function adamwCpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  for (let k = 0; k < attrs.count; k++) {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((n) => hostValues(backend, inputs[`${n}${k}`]));
    adamwUpdate(p, g, m, v, attrs.hyper, k * HYPER_WIDTH);
  }
  return [];
}

function sgdCpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const flags = attrs.flags!;
  for (let k = 0; k < attrs.count; k++) {
    const b = flags.momentum ? hostValues(backend, inputs[`b${k}`]) : null;
    sgdUpdate(hostValues(backend, inputs[`p${k}`]), hostValues(backend, inputs[`g${k}`]), b, attrs.hyper, flags, k * HYPER_WIDTH);
  }
  return [];
}

let registered = false;

/**
 * Registers the cpu kernels (idempotent, by name; the webgpu ones register from their own module).
 * Not for wasm: there the op path's SIMD kernels are faster than one scalar JS loop (AdamW over 9.6M
 * parameters: 0.6 s op by op vs 0.9 s in JS, measured here; on cpu: 17.8 s vs 1.2 s).
 */
export function registerFusedOptimizerCpu(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel(FUSED_ADAMW, 'cpu')) tf.registerKernel({ kernelName: FUSED_ADAMW, backendName: 'cpu', kernelFunc: adamwCpu as never });
  if (!tf.getKernel(FUSED_SGD, 'cpu')) tf.registerKernel({ kernelName: FUSED_SGD, backendName: 'cpu', kernelFunc: sgdCpu as never });
}
