// Child process of test/mask_rcnn_webgpu_parity.test.ts (run separately so the Vulkan loader sees
// LD_LIBRARY_PATH / VK_ICD_FILENAMES from process start): the tiny trained Mask R-CNN
// (test/fixtures/mask_rcnn_async/tiny_trained.safetensors) predicts two 64x64 images (one batch) on cpu and on
// webgpu; prints one JSON line with the comparison (helpers/det_compare.ts) and the timings.
//   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json \
//     node --import tsx test/helpers/webgpu_det_parity.ts
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../core/backend';
import { buildMaskRCNN } from '../../models/mask_rcnn_builder';
import { loadStateDict, readCheckpoint } from '../../engine/checkpoint';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './mask_rcnn_tiny';
import { compareDetections } from './det_compare';

registerTinyBackbone();
await selectBackend('cpu');
const cfg = tinyMaskRcnnConfig();
// Fewer RoIs than the tiny config's defaults keep SwiftShader (a CPU Vulkan) within a minute.
cfg.test_cfg.rpn.max_per_img = 30;
cfg.test_cfg.rcnn.max_per_img = 20;
const model = buildMaskRCNN(cfg);
const ckpt = 'test/fixtures/mask_rcnn_async/tiny_trained.safetensors';
loadStateDict(model.module, readCheckpoint(ckpt).stateDict, { strict: true, source: ckpt });
const batch = tinyBatch(102, 2, 64);
let t = performance.now();
const cpu = await model.predictBitmaps(batch);
const cpuSec = (performance.now() - t) / 1000;
const choice = await selectBackend('webgpu');
t = performance.now();
const gpu = await model.predictBitmaps(batch);
const gpuSec = (performance.now() - t) / 1000;
const diffs = cpu.map((r, i) => compareDetections(r, gpu[i], { boxTol: 1e-2, scoreTol: 1e-4, maskPixels: 0 }));
console.log(
  JSON.stringify({
    backend: choice.reasons[0],
    detections: [cpu.map((r) => r.scores.length), gpu.map((r) => r.scores.length)],
    cpuSec,
    gpuSec,
    problems: diffs.flatMap((d, i) => d.problems.map((p) => `image ${i}: ${p}`)),
    maxBoxDiff: Math.max(...diffs.map((d) => d.maxBoxDiff)),
    maxScoreDiff: Math.max(...diffs.map((d) => d.maxScoreDiff)),
    maxMaskPixels: Math.max(...diffs.map((d) => d.maxMaskPixels)),
  }),
);
process.exit(0);
