// End-to-end tests of the demo page (web/) in Debian's headless Chromium driven by playwright-core
// (no browser download). The page is built with Vite (as `npm run build:web`) into test-output/,
// tiny random-weight checkpoints of the two demo models are written next to it, and the page's
// predictions are compared with the Node API's on the same image and weights.
// Skipped, with the reason printed, when /usr/bin/chromium is absent; TVD_REQUIRE_BROWSER=1 makes
// that a failure (CI).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { selectBackend } from '../ops/backend';
import { initDetector, initSegmentor, inferenceDetector, inferenceSegmentor } from '../index';
import { serveStatic, type StaticServer } from './helpers/static_server';
import { writeTinyCheckpoint } from './helpers/web_fixtures';

const CHROMIUM = '/usr/bin/chromium';
const OUT = resolve('test-output/browser');
const IMAGE = resolve('web/assets/demo.png');
const have = existsSync(CHROMIUM);
if (!have) {
  if (process.env.TVD_REQUIRE_BROWSER === '1') throw new Error(`${CHROMIUM} not found and TVD_REQUIRE_BROWSER=1: install Debian's chromium package`);
  console.warn(`browser tests skipped: ${CHROMIUM} not found (apt-get install chromium; set TVD_REQUIRE_BROWSER=1 to make this a failure)`);
}

/** Flags for a quiet, isolated headless Chromium; WebGPU needs only --enable-unsafe-webgpu (SwiftShader adapter). */
function chromiumArgs(webgpu: boolean): string[] {
  return [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']),
  ];
}

interface PageState {
  state: string;
  error?: string;
  backend?: string;
  firstMs?: number;
  medianMs?: number;
  weightBytes?: number;
  params?: number;
  result?: { bboxes?: number[][]; scores?: number[]; labels?: number[]; maskAreas?: number[]; sem_seg?: number[]; height?: number; width?: number };
}

describe.skipIf(!have)('demo page in headless Chromium', () => {
  let server: StaticServer;
  const browsers: Browser[] = [];

  beforeAll(async () => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(join(OUT, 'fixtures'), { recursive: true });
    await writeTinyCheckpoint('det', join(OUT, 'fixtures/det.safetensors'));
    await writeTinyCheckpoint('seg', join(OUT, 'fixtures/seg.safetensors'), { f16: true });
    const { build } = await import('vite');
    await build({ configFile: resolve('web/vite.config.ts'), logLevel: 'warn', build: { outDir: join(OUT, 'site'), emptyOutDir: true } });
    server = await serveStatic({ '/': join(OUT, 'site'), '/fixtures/': join(OUT, 'fixtures') });
  });

  afterAll(async () => {
    for (const b of browsers) await b.close();
    await server?.close();
  });

  async function openPage(webgpu: boolean, query: string, shot: string): Promise<PageState> {
    const { chromium } = await import('playwright-core');
    const dataDir = join(OUT, `profile-${shot}`);
    const ctx = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, headless: true, args: chromiumArgs(webgpu) });
    browsers.push(ctx.browser() ?? (ctx as unknown as Browser));
    const page = await ctx.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${server.url}/?${query}`);
    await page.waitForFunction(() => ['done', 'error'].includes((window as unknown as { __tvd: PageState }).__tvd?.state), null, { timeout: 280_000, polling: 500 });
    const st = (await page.evaluate(() => (window as unknown as { __tvd: PageState }).__tvd)) as PageState;
    await page.screenshot({ path: join(OUT, `${shot}.png`), fullPage: true });
    await ctx.close();
    if (st.state !== 'done') throw new Error(`page failed: ${st.error}\n${logs.join('\n')}`);
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
});
