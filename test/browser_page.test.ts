// End-to-end tests of the demo page (web/) in Debian's headless Chromium driven by playwright-core
// (no browser download). The page is built with Vite (as `npm run build:web`) into test-output/,
// tiny random-weight checkpoints of the two demo models are written next to it, and the page's
// predictions are compared with the Node API's on the same image and weights: the detector on wasm
// and on WebGPU (SwiftShader, Chromium's CPU Vulkan driver), the segmentor on WebGPU.
// Skipped, with the reason printed, when /usr/bin/chromium is absent; TVD_REQUIRE_BROWSER=1 makes
// that a failure (CI).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../ops/backend';
import { initDetector, initSegmentor, inferenceDetector, inferenceSegmentor } from '../index';
import { serveStatic, type StaticServer } from '../tools/lib/static_server';
import { CHROMIUM, type PageState, buildPage, haveChromium, runPage } from '../tools/lib/chromium_page';
import { writeTinyCheckpoint } from './helpers/web_fixtures';
import { compareDetections } from '../tools/lib/det_compare';
import type { DetectionResult } from '../structures/results';

const OUT = resolve('test-output/browser');
const IMAGE = resolve('web/assets/demo.png');
const have = haveChromium();
if (!have) {
  if (process.env.TVD_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} not found and TVD_REQUIRE_BROWSER=1: install Debian's chromium package`);
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium; set TVD_REQUIRE_BROWSER=1 to make this a failure)`);
}

describe.skipIf(!have)('demo page in headless Chromium', () => {
  let server: StaticServer;

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(join(OUT, 'fixtures'), { recursive: true });
    await writeTinyCheckpoint('det', join(OUT, 'fixtures/det.safetensors'));
    await writeTinyCheckpoint('seg', join(OUT, 'fixtures/seg.safetensors'), { f16: true });
    await buildPage(join(OUT, 'site'));
    server = await serveStatic({ '/': join(OUT, 'site'), '/fixtures/': join(OUT, 'fixtures') });
  });

  afterAll(async () => {
    await server?.close();
  });

  async function openPage(webgpu: boolean, query: string, shot: string, timeoutMs = 280_000): Promise<PageState> {
    const st = await runPage({ url: server.url, query, webgpu, screenshot: join(OUT, `${shot}.png`), profileDir: join(OUT, `profile-${shot}`), timeoutMs });
    console.log(`[browser] ${shot}: backend ${st.backend}, first run ${st.firstMs?.toFixed(0)} ms, median ${st.medianMs?.toFixed(0)} ms, weights ${st.weightBytes} B`);
    return st;
  }

  it('runs the detector on wasm and reports the Node API predictions (same image, same weights)', async () => {
    const st = await openPage(false, 'task=det&backend=wasm&weights=/fixtures/det.safetensors&runs=2', 'detector_wasm');
    expect(st.backend).toBe('wasm');
    expect(existsSync(join(OUT, 'detector_wasm.png'))).toBe(true);

    await selectBackend('wasm');
    const det = await initDetector(null, join(OUT, 'fixtures/det.safetensors'));
    const node = await inferenceDetector(det, IMAGE);
    det.model.module.dispose();
    const web = st.result!;
    expect(web.scores!.length).toBe(node.scores.length);
    expect(node.scores.length).toBeGreaterThan(10);
    // Same order, labels, scores and boxes within float tolerance (both run tfjs' wasm kernels).
    for (let i = 0; i < node.scores.length; i++) {
      expect(web.labels![i]).toBe(node.labels[i]);
      expect(Math.abs(web.scores![i] - node.scores[i])).toBeLessThan(1e-4);
      for (let k = 0; k < 4; k++) expect(Math.abs(web.bboxes![i][k] - node.bboxes[i * 4 + k])).toBeLessThan(0.05);
      const area = node.masks![i].reduce((a, b) => a + b, 0);
      expect(Math.abs(web.maskAreas![i] - area)).toBeLessThanOrEqual(Math.max(2, area * 0.01));
    }
  });

  it('runs the segmentor on WebGPU (SwiftShader) with the Node API label map', async () => {
    const st = await openPage(true, 'task=seg&backend=webgpu&weights=/fixtures/seg.safetensors&runs=2', 'segmentor_webgpu');
    expect(st.backend).toBe('webgpu');

    await selectBackend('wasm');
    const seg = await initSegmentor(null, join(OUT, 'fixtures/seg.safetensors'));
    const node = await inferenceSegmentor(seg, IMAGE);
    seg.model.module.dispose();
    const web = st.result!;
    expect([web.height, web.width]).toEqual([node.height, node.width]);
    let same = 0;
    for (let i = 0; i < node.sem_seg.length; i++) if (web.sem_seg![i] === node.sem_seg[i]) same++;
    // GPU float arithmetic differs in the last bits: only near-tied argmax pixels may flip.
    expect(same / node.sem_seg.length).toBeGreaterThan(0.99);
    expect(new Set(node.sem_seg).size).toBeGreaterThan(1);
  });

  it('runs the detector on WebGPU (SwiftShader) and reports the Node API detections', async () => {
    // The first run only: SwiftShader compiles every shader on the CPU (70-140 s here), and a timed
    // run would add 40-100 s to CI for a figure the correctness check does not need.
    const st = await openPage(true, 'task=det&backend=webgpu&weights=/fixtures/det.safetensors', 'detector_webgpu', 560_000);
    expect(st.backend).toBe('webgpu');

    await selectBackend('wasm');
    const det = await initDetector(null, join(OUT, 'fixtures/det.safetensors'));
    const node = await inferenceDetector(det, IMAGE);
    det.model.module.dispose();
    const w = st.result!;
    const web: DetectionResult = {
      bboxes: Float32Array.from(w.bboxes!.flat()),
      scores: Float32Array.from(w.scores!),
      labels: Int32Array.from(w.labels!),
    };
    expect(node.scores.length).toBeGreaterThan(10);
    // GPU float arithmetic differs from wasm in the last bits: pair detections by label and box
    // instead of relying on the order of near-equal scores.
    const d = compareDetections({ ...node, masks: undefined }, web, { boxTol: 0.01, scoreTol: 1e-4 });
    let maxArea = 0;
    d.pairs.forEach((j, i) => {
      if (j < 0) return;
      const area = node.masks![i].reduce((a, b) => a + b, 0);
      const diff = Math.abs(w.maskAreas![j] - area);
      maxArea = Math.max(maxArea, diff / Math.max(area, 1));
      expect(diff, `mask area of detection ${i}`).toBeLessThanOrEqual(Math.max(2, area * 0.01));
    });
    console.log(
      `[browser] detector_webgpu vs Node (wasm): ${node.scores.length} detections, max box diff ${d.maxBoxDiff.toExponential(2)} px, ` +
        `max score diff ${d.maxScoreDiff.toExponential(2)}, max mask area diff ${(maxArea * 100).toFixed(2)}%`,
    );
    expect(d.problems).toEqual([]);
  }, 600_000);
});
