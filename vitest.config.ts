import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The webgpu kernel tests reach SwiftShader through Dawn, which loads the Vulkan loader
// libvulkan.so.1. Debian's chromium ships one in /usr/lib/chromium; where the system has none
// (no libvulkan1 package), the test workers find chromium's. The dynamic linker reads
// LD_LIBRARY_PATH only at process start, so it is set here, before vitest forks its workers.
const CHROMIUM_LIB = '/usr/lib/chromium';
const systemVulkan = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some(existsSync);
if (!systemVulkan && existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`) && !(process.env.LD_LIBRARY_PATH ?? '').split(':').includes(CHROMIUM_LIB)) {
  process.env.LD_LIBRARY_PATH = [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs kernels are CPU-heavy; two forks match the 2-core CI machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
