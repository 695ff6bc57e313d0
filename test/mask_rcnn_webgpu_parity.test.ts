// The detector's predictions on webgpu equal cpu's on the same weights and images (a batch of two
// 64x64 images, the trained tiny Mask R-CNN of test/fixtures/mask_rcnn_async): the same kept set, boxes
// within 0.01 px, scores within 1e-4, thresholded masks identical. Without a GPU, webgpu runs on
// SwiftShader (helpers/webgpu.ts); the test skips with the reason in its title when no adapter is
// found, and fails instead when TVD_REQUIRE_WEBGPU=1 (CI).
import { beforeAll, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildMaskRCNN } from '../models/mask_rcnn_builder';
import type { MaskRCNN } from '../models/mask_rcnn';
import { loadStateDict, readCheckpoint } from '../checkpoint';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './helpers/mask_rcnn_tiny';
import { compareDetections } from '../tools/lib/det_compare';
import { describeWebgpu, setupWebgpu } from './helpers/webgpu';

const gpu = await setupWebgpu();

/** The trained tiny model on the current backend, with fewer RoIs (SwiftShader is a CPU Vulkan). */
function trainedTiny(): MaskRCNN {
  const cfg = tinyMaskRcnnConfig();
  cfg.test_cfg.rpn.max_per_img = 30;
  cfg.test_cfg.rcnn.max_per_img = 20;
  const model = buildMaskRCNN(cfg);
  const ckpt = 'test/fixtures/mask_rcnn_async/tiny_trained.safetensors';
  loadStateDict(model.module, readCheckpoint(ckpt).stateDict, { strict: true, source: ckpt });
  return model;
}

describeWebgpu(gpu, 'Mask R-CNN on webgpu', () => {
  beforeAll(() => registerTinyBackbone());

  it('predicts like cpu on the same weights and images (batch of two)', async () => {
    const batch = tinyBatch(102, 2, 64);
    await tf.setBackend('cpu');
    const onCpu = trainedTiny();
    const cpu = await onCpu.predictBitmaps(batch);
    onCpu.dispose();
    await tf.setBackend('webgpu');
    const onGpu = trainedTiny();
    const t0 = performance.now();
    const webgpu = await onGpu.predictBitmaps(batch);
    const sec = (performance.now() - t0) / 1000;
    onGpu.dispose();
    await tf.setBackend('cpu');
    expect(cpu.every((r) => r.scores.length > 0)).toBe(true);
    const diffs = cpu.map((r, i) => compareDetections(r, webgpu[i], { boxTol: 1e-2, scoreTol: 1e-4, maskPixels: 0 }));
    console.log(
      `webgpu vs cpu: detections ${cpu.map((r) => r.scores.length).join('+')}, max box diff ${Math.max(...diffs.map((d) => d.maxBoxDiff)).toExponential(2)} px, ` +
        `max score diff ${Math.max(...diffs.map((d) => d.maxScoreDiff)).toExponential(2)}, webgpu predict ${sec.toFixed(1)} s`,
    );
    diffs.forEach((d, i) => expect(d.problems, `image ${i}`).toEqual([]));
  }, 240_000);
});
