// Sets up tfjs's webgpu backend for the kernel tests, on this project's GPU-less CI machine through
// SwiftShader (a CPU Vulkan implementation shipped by Debian's chromium package), or on whatever
// adapter Dawn finds. Once per test file (each vitest file runs in its own process).
// No adapter => the tests skip with the reason in their title, unless TVD_REQUIRE_WEBGPU=1 (CI),
// where setup throws. The Vulkan loader comes from the system (libvulkan1) or, where that is
// missing, from /usr/lib/chromium (vitest.config.ts puts it on LD_LIBRARY_PATH).
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe } from 'vitest';
import { registerWebgpuKernels } from '../../ops/webgpu/register';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface WebgpuSetup {
  ok: boolean;
  /** The adapter's description when ok, else why webgpu is unavailable. */
  detail: string;
}

let setup: Promise<WebgpuSetup> | null = null;

async function init(): Promise<WebgpuSetup> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  const icd = process.env.VK_ICD_FILENAMES;
  if (icd && !existsSync(icd)) return { ok: false, detail: `VK_ICD_FILENAMES=${icd} does not exist (apt-get install chromium)` };
  let gpu: { requestAdapter(): Promise<{ info?: { description?: string; device?: string } } | null> };
  try {
    const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): typeof gpu; globals: Record<string, unknown> };
    gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return { ok: false, detail: `no WebGPU adapter (SwiftShader ICD ${existsSync(SWIFTSHADER_ICD) ? 'present' : 'absent: apt-get install chromium'}; Vulkan loader libvulkan.so.1 needed)` };
    }
    Object.assign(globalThis, globals);
    const g = globalThis as unknown as { navigator?: Record<string, unknown> };
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return { ok: false, detail: 'the webgpu backend did not initialise' };
    registerWebgpuKernels({ keepTfjs: false });
    const name = adapter.info?.description || adapter.info?.device || 'unnamed adapter';
    await tf.setBackend('cpu');
    return { ok: true, detail: name };
  } catch (e) {
    return { ok: false, detail: `webgpu setup failed: ${String((e as Error)?.message ?? e).split('\n')[0]}` };
  }
}

/**
 * Initialises the webgpu backend (and cpu as current backend) once; throws when unavailable and
 * TVD_REQUIRE_WEBGPU=1, otherwise prints why the webgpu tests skip.
 */
export async function setupWebgpu(): Promise<WebgpuSetup> {
  setup ??= init();
  const s = await setup;
  if (!s.ok) {
    if (process.env.TVD_REQUIRE_WEBGPU === '1') throw new Error(`TVD_REQUIRE_WEBGPU=1 but ${s.detail}`);
    console.warn(`webgpu tests skipped: ${s.detail}`);
  }
  return s;
}

/** describe() that runs on webgpu or skips with the reason in its title. */
export function describeWebgpu(s: WebgpuSetup, title: string, body: () => void): void {
  if (s.ok) describe(`${title} [webgpu: ${s.detail}]`, body);
  else describe.skip(`${title} [skipped: ${s.detail}]`, body);
}

/** Runs fn on a backend inside tidy and reads every result back asynchronously. */
export async function runOn(backend: 'cpu' | 'webgpu', fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  try {
    return (await Promise.all(outs.map((o) => o.data()))).map((d) => Float32Array.from(d as ArrayLike<number>));
  } finally {
    tf.dispose(outs);
  }
}

/** Deterministic values in [-1, 1) (a small LCG), so cpu and webgpu see the same inputs. */
export function seededValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** max |a - b| relative to max(1, max |ref|); lengths must match. */
export function relMaxDiff(a: Float32Array, ref: Float32Array): number {
  if (a.length !== ref.length) return Infinity;
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / m;
}
