// WebGPU in Node: Dawn through the `webgpu` npm package (see platform/README.md).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

/**
 * Asks Dawn for an adapter in a child process, so that what Dawn prints on machines without a GPU
 * (`Couldn't load Vulkan`, `XDG_RUNTIME_DIR is invalid`, ...) goes to the child's captured stderr
 * instead of the user's terminal. Returns null when an adapter exists, else one line saying why not.
 */
export function probeWebgpuQuietly(timeoutMs = 60_000): string | null {
  const script =
    "import('webgpu').then(async (m) => { const a = await m.create([]).requestAdapter(); process.stdout.write(a ? 'adapter' : 'none'); }, " +
    "(e) => { process.stdout.write('load-failed: ' + String(e && e.message || e).split('\\n')[0]); })";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: timeoutMs });
  if (r.stdout === 'adapter') return null;
  if (r.stdout?.startsWith('load-failed: ')) return `the webgpu package failed to load (${r.stdout.slice('load-failed: '.length)})`;
  // Dawn's own explanation, reduced to its first line without source locations.
  const dawn = (r.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at ') && !l.startsWith('<'))
    .map((l) => l.replace(/^(Warning|Error|error):\s*/i, ''))[0];
  if (r.error || r.signal) return `the adapter probe did not finish (${r.error?.message ?? r.signal})`;
  return `no GPU adapter${dawn ? ` (Dawn: ${dawn})` : ' (Dawn found no usable Vulkan/Metal/D3D12 device)'}`;
}

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
