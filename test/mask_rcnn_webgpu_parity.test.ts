// The detector's predictions on webgpu equal cpu's (same weights, a batch of two tiny images): same kept set,
// boxes within 0.01 px, scores within 1e-4, thresholded masks identical. Without a GPU the webgpu
// backend runs on SwiftShader (Debian chromium's CPU Vulkan driver); the test skips, saying so, when
// that driver is absent, and fails instead when TVD_REQUIRE_WEBGPU=1. The comparison runs in a child
// process (helpers/webgpu_det_parity.ts) because the Vulkan loader reads LD_LIBRARY_PATH at start.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const ICD = process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json';
const required = process.env.TVD_REQUIRE_WEBGPU === '1';
const present = existsSync(ICD);
const skip = !present && !required;
if (skip) console.warn(`mask_rcnn_webgpu_parity: skipped, the Vulkan driver ${ICD} is absent (apt install chromium gives SwiftShader; TVD_REQUIRE_WEBGPU=1 makes this a failure)`);

describe('Mask R-CNN on webgpu', () => {
  it.skipIf(skip)(`predicts like cpu on the same weights and image${skip ? ` [skipped: ${ICD} absent]` : ''}`, () => {
    expect(present, `TVD_REQUIRE_WEBGPU=1 but the Vulkan driver ${ICD} is absent`).toBe(true);
    const libDir = dirname(ICD);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/webgpu_det_parity.ts'], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, `child failed (status ${r.status}):\n${r.stderr.slice(-3000)}`).toBeTruthy();
    const res = JSON.parse(line as string) as { problems: string[]; detections: number[][]; maxBoxDiff: number; maxScoreDiff: number; cpuSec: number; gpuSec: number };
    console.log(`webgpu vs cpu: ${JSON.stringify(res)}`);
    expect(res.detections[0].every((n) => n > 0)).toBe(true);
    expect(res.problems).toEqual([]);
  }, 300_000);
});
