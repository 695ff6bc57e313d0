// The backend the backend-portable suites run on (the TinyViM parity fixtures, the scan ops, the
// train-step parity): TVD_TEST_BACKEND=cpu (default), wasm or webgpu. The same assertions run on each;
// only the output tolerances widen on webgpu, where float32 kernels sum in another order than the cpu
// backend (toleranceFactor). The suites are listed in helpers/backend_suites.ts; `tools/webgpu_check`
// runs them with the variable set.
//
// webgpu: Dawn through the `webgpu` package, the library's own path (ops/backend.ts selectBackend,
// which also registers our WGSL kernels). Without VK_ICD_FILENAMES, a machine where Dawn finds no
// adapter but Debian's chromium is installed falls back to SwiftShader (CPU Vulkan): slow, but it
// runs the WGSL. A requested backend that cannot start fails the suite with one line saying why.
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { probeWebgpuQuietly } from '../../platform/node/gpu';
import { selectBackend } from '../../ops/backend';
import { SWIFTSHADER_ICD } from './webgpu';

export const TEST_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** TVD_TEST_BACKEND, validated (default cpu); throws one line naming the variable and the choices. */
export function testBackend(env: Record<string, string | undefined> = process.env): TestBackend {
  const raw = env.TVD_TEST_BACKEND;
  if (raw == null || raw === '') return 'cpu';
  if (!(TEST_BACKENDS as readonly string[]).includes(raw)) {
    throw new Error(`environment variable TVD_TEST_BACKEND: expected one of ${TEST_BACKENDS.join(', ')}, got '${raw}'`);
  }
  return raw as TestBackend;
}

/**
 * How much wider than the cpu tests' tolerance a comparison may be on the current backend: 10 on
 * webgpu, 1 elsewhere (wasm meets the cpu tolerances). float32 GPU kernels sum in another order than
 * the cpu backend; the fixture suites stayed within the cpu bounds on an H200 (docs/webgpu.md) and on
 * SwiftShader (every portable suite at factor 1, 2026-11-30), so 10 is margin for other GPUs, not an
 * observed error. It is the 'loose' bound the former tools/webgpu_check passed on.
 */
export function toleranceFactor(): number {
  return tf.getBackend() === 'webgpu' ? 10 : 1;
}

/** `title` on cpu, `title [backend]` otherwise, so a run's report says where it ran. */
export function onBackend(title: string): string {
  const b = testBackend();
  return b === 'cpu' ? title : `${title} [${b}]`;
}

let selected: Promise<string> | null = null;

async function select(name: TestBackend): Promise<string> {
  let note = '';
  if (name === 'webgpu' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    // The probe runs in a child process, so the fallback below still reaches a fresh Vulkan loader.
    const why = probeWebgpuQuietly();
    if (why) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      note = ` (SwiftShader: ${why})`;
    }
  }
  try {
    await selectBackend(name);
  } catch (e) {
    throw new Error(`TVD_TEST_BACKEND=${name}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
  }
  return `${name}${note}`;
}

/**
 * Makes the suite's backend current (call in beforeAll): TVD_TEST_BACKEND or cpu. Selected once per
 * test file (vitest runs each file in its own process); returns what was selected, with the reason
 * when webgpu fell back to SwiftShader.
 */
export async function useTestBackend(): Promise<string> {
  selected ??= select(testBackend());
  const what = await selected;
  await tf.setBackend(testBackend());
  if (tf.getBackend() !== testBackend()) throw new Error(`TVD_TEST_BACKEND=${testBackend()}: the current backend is ${tf.getBackend()}`);
  return what;
}

/** Whether the test backend can read tensors synchronously (dataSync); webgpu under Node cannot. */
export function hasSyncReads(): boolean {
  return testBackend() !== 'webgpu';
}
