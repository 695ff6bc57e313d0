// One GPU per rank for the webgpu backend. The `webgpu` package (Dawn) picks adapters by name, and
// identical GPUs share a name, so the choice is made below Dawn, in the Vulkan layer stack: Mesa's
// device-select layer (Debian: mesa-vulkan-drivers) honours DRI_PRIME=pci-DDDD_BB_DD_F (a PCI bus id)
// and, with MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1, exposes only that device to the process.
// This module finds the GPUs' PCI bus ids (sysfs, or TINYVIM_GPU_PCI_IDS), picks the local rank's
// one and sets those variables before the webgpu package creates its Vulkan instance.
import { existsSync, readdirSync, readFileSync, readlinkSync } from '#platform/fs';
import { basename, join } from '#platform/path';
import { UserError } from '../../core/errors';

/** Kernel drivers of compute GPUs (BMC/virtual display adapters, e.g. ASPEED VGA, are skipped). */
const GPU_DRIVERS = new Set(['nvidia', 'amdgpu', 'i915', 'xe', 'nouveau', 'radeon']);

/**
 * PCI bus ids ('0000:1b:00.0') of the display-class devices (class 0x03xxxx) bound to a GPU driver,
 * sorted (the order nvidia-smi and CUDA_DEVICE_ORDER=PCI_BUS_ID use).
 */
export function listGpuPciIds(sysfs = '/sys/bus/pci/devices'): string[] {
  if (!existsSync(sysfs)) return [];
  const out: string[] = [];
  for (const id of readdirSync(sysfs)) {
    const dir = join(sysfs, id);
    let cls = '';
    try {
      cls = readFileSync(join(dir, 'class'), 'utf8').trim();
    } catch {
      continue;
    }
    if (!cls.startsWith('0x03')) continue;
    let driver = '';
    try {
      driver = basename(readlinkSync(join(dir, 'driver')));
    } catch {
      continue;
    }
    if (GPU_DRIVERS.has(driver)) out.push(id);
  }
  return out.sort();
}

/** '0000:1b:00.0' -> 'pci-0000_1b_00_0' (Mesa's DRI_PRIME tag form). */
export function driPrimeTag(pciId: string): string {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(pciId);
  if (!m) throw new UserError(`not a PCI bus id: '${pciId}' (expected DDDD:BB:DD.F, e.g. 0000:1b:00.0)`);
  return `pci-${m[1]}_${m[2]}_${m[3]}_${m[4]}`.toLowerCase();
}

export interface GpuChoice {
  /** The chosen PCI bus id, or null when there is nothing to choose (no GPU, or one GPU for one rank). */
  pciId: string | null;
  /** A line for the log. */
  note: string;
}

/**
 * Chooses GPU `localRank` of this host and sets DRI_PRIME / MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE
 * in `env`. The GPU list is TINYVIM_GPU_PCI_IDS (comma-separated bus ids) when set, else sysfs.
 * Variables the user already set are left alone. Throws when there are fewer GPUs than local ranks.
 */
export function selectGpuForRank(localRank: number, localSize: number, env: NodeJS.ProcessEnv = process.env, sysfs?: string): GpuChoice {
  const ids = env.TINYVIM_GPU_PCI_IDS ? env.TINYVIM_GPU_PCI_IDS.split(',').map((s) => s.trim()).filter(Boolean) : listGpuPciIds(sysfs);
  if (env.DRI_PRIME) return { pciId: null, note: `DRI_PRIME=${env.DRI_PRIME} set by the user; GPU choice left to it` };
  if (!ids.length) return { pciId: null, note: 'no GPU found in sysfs (TINYVIM_GPU_PCI_IDS unset); the backend picks its default adapter' };
  if (localSize > ids.length) {
    throw new UserError(`${localSize} ranks on this host but ${ids.length} GPU(s) (${ids.join(', ')}); start at most one rank per GPU (mpirun -np / --map-by ppr:${ids.length}:node)`);
  }
  const pciId = ids[localRank];
  env.DRI_PRIME = driPrimeTag(pciId);
  env.MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE ??= '1';
  return { pciId, note: `GPU ${localRank} of ${ids.length} on this host: PCI ${pciId} (DRI_PRIME=${env.DRI_PRIME}, Mesa device-select layer)` };
}

/** Whether Mesa's device-select layer is installed (without it DRI_PRIME does not reach Vulkan). */
export function hasMesaDeviceSelect(env: NodeJS.ProcessEnv = process.env): boolean {
  // The Vulkan loader searches XDG_DATA_DIRS/vulkan/implicit_layer.d too (tools/devpack_dist.sh puts the layer there).
  const xdg = (env.XDG_DATA_DIRS ?? '').split(':').filter(Boolean).map((d) => `${d}/vulkan/implicit_layer.d`);
  return [...xdg, '/usr/share/vulkan/implicit_layer.d', '/etc/vulkan/implicit_layer.d'].some(
    (d) => existsSync(d) && readdirSync(d).some((f) => /MESA_device_select/i.test(f)),
  );
}

/** The adapter the webgpu backend runs on (navigator.gpu, set up by core/backend), for the log. */
export async function describeWebgpuAdapter(): Promise<string> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } } }).navigator?.gpu;
  if (!gpu) return 'no navigator.gpu';
  const a = await gpu.requestAdapter();
  const info = a?.info ?? {};
  return `${info.vendor ?? '?'} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.replace(/\s+/g, ' ').trim();
}
