// WebGPU in Node: Dawn through the `webgpu` npm package (see platform/README.md).

export interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

/**
 * Creates Dawn's GPU object. `install()` puts it where tfjs-backend-webgpu looks (navigator.gpu and
 * the GPU* constants on globalThis); call it once an adapter was found.
 * Throws when the webgpu package cannot load.
 */
export async function createGpu(): Promise<{ gpu: GpuLike; install(): void }> {
  const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  const gpu = create([]);
  return {
    gpu,
    install() {
      Object.assign(globalThis, globals);
      const g = globalThis as unknown as { navigator?: Record<string, unknown> };
      if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      else g.navigator = { gpu };
    },
  };
}
