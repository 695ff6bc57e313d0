// Fused optimizer updates: ONE kernel call per optimizer step that updates every parameter and its
// state in place, instead of ~14 element-wise ops per parameter (each a dispatch on webgpu, each JS
// scalar operand a host upload). Kernels (inputs named p<k>, g<k> and state m<k>/v<k> or b<k>,
// k = 0..count-1; attrs: count, hyper (HYPER_WIDTH numbers per parameter), flags; no outputs:
// the parameter and state tensors' storage is updated in place):
//   'TvdFusedAdamW'  torch.optim.AdamW (single-tensor path), as engine/optimizers.ts AdamW
//   'TvdFusedSGD'    torch.optim.SGD (momentum, dampening, nesterov, weight decay), as SGD there
// Registered for 'cpu' and 'wasm' here (JS loops over the backend's own float32 storage) and for 'webgpu' in
// ops/webgpu/optimizer_update_webgpu.ts (one WGSL dispatch per parameter, hyper-parameters in one
// uniform buffer per step). Other backends (webgl, tensorflow) keep the op-by-op path of engine/optimizers.ts.
//
// Numbers: every statement of adamwElement / sgdElement is one op of the op-by-op formula, rounded to
// float32 (Math.fround) exactly where a float32 tensor would hold the op's result, so on cpu the fused
// update is bit-identical to the op path (test/optimizer_fused.test.ts). The WGSL shaders are the same
// statements in f32. wasm's kernels compute each op in float32 with IEEE rounding, so the same holds there.
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

/** One AdamW element update (see the header); returns [p, m, v]. `h` = the record of adamwHyper. */
export function adamwElement(p: number, g: number, m: number, v: number, h: ArrayLike<number>, o = 0): [number, number, number] {
  const decayed = h[o] ? f(p * h[o + 1]) : p;
  const m1 = f(m + f(f(g - m) * h[o + 2]));
  const v1 = f(f(v * h[o + 3]) + f(f(g * g) * h[o + 4]));
  const denom = f(f(f(Math.sqrt(v1)) / h[o + 5]) + h[o + 6]);
  return [f(decayed - f(f(m1 / denom) * h[o + 7])), m1, v1];
}

/** One SGD element update; returns [p, momentum buffer]. `b` is ignored without momentum or on the first step. */
export function sgdElement(p: number, g: number, b: number, h: ArrayLike<number>, flags: SgdFlags, o = 0): [number, number] {
  let d = h[o] ? f(g + f(p * h[o + 1])) : g;
  let buf = b;
  if (flags.momentum) {
    buf = h[o + 5] ? d : f(f(b * h[o + 3]) + (flags.dampening ? f(d * h[o + 4]) : d));
    d = flags.nesterov ? f(d + f(buf * h[o + 3])) : buf;
  }
  return [f(p - f(d * h[o + 2])), buf];
}

interface Attrs {
  count: number;
  hyper: number[];
  flags?: SgdFlags;
}
type Args = { inputs: Record<string, tf.TensorInfo>; backend: unknown; attrs: Attrs };

/**
 * The backend's own float32 storage of a tensor, mutated in place: the cpu backend's array, or on
 * wasm a view of the tensor's bytes in the WebAssembly heap (made per call: the heap can grow and
 * move between kernel calls, never inside this loop, which allocates nothing there).
 */
function hostValues(backend: unknown, t: tf.TensorInfo): Float32Array {
  const wasm = backend as { wasm?: { HEAPU8: Uint8Array }; dataIdMap?: { get(id: object): { memoryOffset: number } } };
  if (wasm.wasm && wasm.dataIdMap) {
    const { memoryOffset } = wasm.dataIdMap.get(t.dataId as object);
    return new Float32Array(wasm.wasm.HEAPU8.buffer, memoryOffset, tf.util.sizeFromShape(t.shape));
  }
  const values = (backend as { data: { get(id: object): { values: unknown } } }).data.get(t.dataId as object).values;
  if (!(values instanceof Float32Array)) throw new Error('fused optimizer update (cpu): expected float32 storage');
  return values;
}

function adamwCpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  for (let k = 0; k < attrs.count; k++) {
    const p = hostValues(backend, inputs[`p${k}`]);
    const g = hostValues(backend, inputs[`g${k}`]);
    const m = hostValues(backend, inputs[`m${k}`]);
    const v = hostValues(backend, inputs[`v${k}`]);
    const o = k * HYPER_WIDTH;
    for (let i = 0; i < p.length; i++) [p[i], m[i], v[i]] = adamwElement(p[i], g[i], m[i], v[i], attrs.hyper, o);
  }
  return [];
}

function sgdCpu({ inputs, backend, attrs }: Args): tf.TensorInfo[] {
  const flags = attrs.flags!;
  for (let k = 0; k < attrs.count; k++) {
    const p = hostValues(backend, inputs[`p${k}`]);
    const g = hostValues(backend, inputs[`g${k}`]);
    const b = flags.momentum ? hostValues(backend, inputs[`b${k}`]) : null;
    const o = k * HYPER_WIDTH;
    for (let i = 0; i < p.length; i++) {
      const [pn, bn] = sgdElement(p[i], g[i], b ? b[i] : 0, attrs.hyper, flags, o);
      p[i] = pn;
      if (b) b[i] = bn;
    }
  }
  return [];
}

let registered = false;

/** Registers the cpu and wasm kernels (idempotent, by name; the webgpu ones register from their own module). */
export function registerFusedOptimizerCpu(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['cpu', 'wasm']) {
    if (!tf.getKernel(FUSED_ADAMW, backendName)) tf.registerKernel({ kernelName: FUSED_ADAMW, backendName, kernelFunc: adamwCpu as never });
    if (!tf.getKernel(FUSED_SGD, backendName)) tf.registerKernel({ kernelName: FUSED_SGD, backendName, kernelFunc: sgdCpu as never });
  }
}
