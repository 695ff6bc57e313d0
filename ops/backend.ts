// Backend selection. `auto` tries, in order: tensorflow (tfjs-node-gpu, else tfjs-node: optional
// packages the user installs), webgpu (Dawn through the `webgpu` package, only if it finds a GPU
// adapter), wasm, cpu. The result says which backend runs and why each better one was not used.
import * as tf from '@tensorflow/tfjs';
import { createGpu, probeWebgpuQuietly } from '#platform/gpu';
import { BackendError } from '../core/errors';
// Training on wasm needs the gradient kernels tfjs-backend-wasm lacks; registering is name-based and
// harmless for other backends.
import { registerWasmGradKernels } from './wasm_grad_kernels';
import { registerReduceGradients } from './reduce_grads';

export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type BackendRequest = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendRequest[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendChoice {
  name: BackendName;
  /** For the chosen backend: what it is; for each skipped better one: why. */
  reasons: string[];
}

type Attempt = { ok: true; detail: string } | { ok: false; why: string; install: string };

const firstLine = (e: unknown): string => String((e as Error)?.message ?? e).split('\n')[0];

async function importOptional(name: string): Promise<unknown> {
  // A variable specifier keeps bundlers and the type checker from requiring the optional package.
  const spec = name;
  return import(spec);
}

async function tryTensorflow(): Promise<Attempt> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
      if (await tf.setBackend('tensorflow')) return { ok: true, detail: `libtensorflow via ${pkg}` };
      errors.push(`${pkg} loaded but the 'tensorflow' backend did not initialise`);
    } catch (e) {
      errors.push(`${pkg}: ${/Cannot find (package|module)/.test(firstLine(e)) ? 'not installed' : firstLine(e)}`);
    }
  }
  return {
    ok: false,
    why: errors.join('; '),
    install: 'npm install @tensorflow/tfjs-node-gpu (CUDA machines; needs to download libtensorflow) or npm install @tensorflow/tfjs-node (CPU)',
  };
}


async function tryWebgpu(): Promise<Attempt> {
  const install = 'a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; the `webgpu` npm package provides Dawn';
  const missing = probeWebgpuQuietly();
  if (missing) return { ok: false, why: missing, install: missing.startsWith('the webgpu package') ? 'npm install webgpu' : install };
  try {
    const dawn = await createGpu();
    const gpu = dawn.gpu;
    let adapter: unknown = null;
    try {
      adapter = await gpu.requestAdapter();
    } catch (e) {
      return { ok: false, why: `no GPU adapter (${firstLine(e)})`, install };
    }
    if (!adapter) return { ok: false, why: 'no GPU adapter (Dawn found no usable Vulkan/Metal/D3D12 device)', install };
    // tfjs-backend-webgpu reads navigator.gpu and the GPU* constants from the global scope.
    dawn.install();
  } catch (e) {
    return { ok: false, why: `the webgpu package failed to load (${firstLine(e)})`, install: 'npm install webgpu' };
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend('webgpu')) {
      // Our WGSL kernels replace tfjs's slow ones (and AddN's pipeline-limit bug); TVD_WEBGPU_KERNELS=tfjs keeps tfjs's.
      const { registerWebgpuKernels } = await import('../ops/webgpu/register');
      registerWebgpuKernels();
      tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', webgpuSubmitBatch());
      return { ok: true, detail: 'Dawn WebGPU adapter' };
    }
    return { ok: false, why: 'the webgpu backend did not initialise', install };
  } catch (e) {
    return { ok: false, why: `tfjs-backend-webgpu failed (${firstLine(e)})`, install: 'npm install @tensorflow/tfjs-backend-webgpu' };
  }
}

async function tryWasm(): Promise<Attempt> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmGradKernels();
    if (await tf.setBackend('wasm')) return { ok: true, detail: 'WebAssembly (SIMD, single thread under Node)' };
    return { ok: false, why: 'the wasm backend did not initialise', install: 'npm install @tensorflow/tfjs-backend-wasm' };
  } catch (e) {
    return { ok: false, why: `tfjs-backend-wasm failed (${firstLine(e)})`, install: 'npm install @tensorflow/tfjs-backend-wasm' };
  }
}

async function tryCpu(): Promise<Attempt> {
  await tf.setBackend('cpu');
  // The cpu backend prints a banner recommending tfjs-node on first use; our backend line says it already.
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  return { ok: true, detail: 'plain JavaScript kernels (slowest)' };
}

/** tfjs-backend-webgpu's default: it submits a command buffer every 15 dispatches. */
const TFJS_SUBMIT_BATCH = 15;
/** Ours: fewer queue.submit calls (each also releases the batch's uniform buffers and disposed tensors). */
const SUBMIT_BATCH = 64;

/**
 * Dispatches per queue submission on webgpu (tfjs flag WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE). The train
 * steps are host-bound (docs/speed.md), and each submit costs host time; a larger batch keeps disposed
 * tensors' buffers until its submit, a little more peak memory. TVD_WEBGPU_SUBMIT_BATCH=<n> overrides
 * (15 = tfjs's default, the "before" side of a benchmark).
 */
export function webgpuSubmitBatch(env: Record<string, string | undefined> = process.env): number {
  const raw = env.TVD_WEBGPU_SUBMIT_BATCH;
  if (raw == null || raw === '') return SUBMIT_BATCH;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new BackendError(`environment variable TVD_WEBGPU_SUBMIT_BATCH: expected a positive integer (tfjs default ${TFJS_SUBMIT_BATCH}), got '${raw}'`);
  return n;
}

const ATTEMPTS: Record<BackendName, () => Promise<Attempt>> = { tensorflow: tryTensorflow, webgpu: tryWebgpu, wasm: tryWasm, cpu: tryCpu };
const ORDER: BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * Makes a backend current. An explicit request that cannot be met throws BackendError saying what to
 * install; `auto` falls through the order and records why each better backend was skipped.
 */
export async function selectBackend(request: BackendRequest): Promise<BackendChoice> {
  registerReduceGradients();
  if (request !== 'auto') {
    if (!(request in ATTEMPTS)) throw new BackendError(`unknown backend '${request}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
    const r = await ATTEMPTS[request]();
    if (!r.ok) throw new BackendError(`backend '${request}' is not available: ${r.why}. To use it: ${r.install}`);
    await tf.ready();
    return { name: request, reasons: [`${request}: ${r.detail} (requested)`] };
  }
  const reasons: string[] = [];
  for (const name of ORDER) {
    const r = await ATTEMPTS[name]();
    if (r.ok) {
      await tf.ready();
      reasons.unshift(`${name}: ${r.detail}`);
      return { name, reasons };
    }
    reasons.push(`skipped ${name}: ${r.why}`);
  }
  throw new BackendError('no backend available');
}

/** One line for logs: "backend wasm (WebAssembly ...); skipped tensorflow: ...". */
export function describeBackend(choice: BackendChoice): string {
  return `backend ${choice.reasons.join('; ')}`;
}

/**
 * Submits the webgpu backend's pending commands (no-op on other backends). Called by the benchmark
 * harness before each timed step, as a training loop's per-iteration loss read does: every step then
 * starts at the same point of tfjs's submit batching, buffers return to the pool at the same points,
 * and the cached bind groups of ops/webgpu/dispatch_cache.ts repeat from step to step.
 */
export function submitPendingWork(): void {
  if (tf.getBackend() !== 'webgpu') return;
  const be = tf.backend() as unknown as { commandEncoder: unknown; endComputePassEncoder(): void; submitQueue(): void };
  if (be.commandEncoder) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}
