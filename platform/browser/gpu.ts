// WebGPU in a browser: navigator.gpu, when the browser offers it (see platform/README.md).
import { PlatformError } from '../errors';

export interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/** The browser's GPU object; throws PlatformError when navigator.gpu is absent. */
export async function createGpu(): Promise<{ gpu: GpuLike; install(): void }> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) throw new PlatformError('this browser offers no WebGPU (navigator.gpu is absent)');
  return { gpu, install() {} };
}

/** In a browser nothing prints to a terminal: the adapter is asked for directly, so there is nothing to probe. */
export function probeWebgpuQuietly(): string | null {
  return null;
}
