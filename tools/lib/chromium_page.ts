// Runs the demo page (web/, built with Vite) in Debian's headless Chromium driven by playwright-core
// (no browser download) and returns what the page reports in window.__tvd: the browser tests
// (test/browser_page.test.ts) and tools/web_screenshot share it.
import { existsSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Debian's chromium package; playwright-core drives it instead of downloading a browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a quiet, isolated headless Chromium. WebGPU needs only --enable-unsafe-webgpu here (the
 * SwiftShader adapter; measured: --enable-unsafe-swiftshader, --use-angle=swiftshader and
 * --use-webgpu-adapter=swiftshader change nothing); wasm runs get --disable-gpu.
 */
export function chromiumArgs(webgpu: boolean): string[] {
  return [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']),
  ];
}

/** window.__tvd of web/main.ts as plain JSON. Times in milliseconds. */
export interface PageState {
  state: string;
  error?: string;
  backend?: string;
  /** The first run (includes kernel/shader compilation) and the median of the `runs` timed runs after it. */
  firstMs?: number;
  medianMs?: number;
  timedMs?: number[];
  weightBytes?: number;
  params?: number;
  result?: {
    /** Detector: [n][x1, y1, x2, y2] in original-image pixels, scores, labels, mask areas (pixels). */
    bboxes?: number[][];
    scores?: number[];
    labels?: number[];
    maskAreas?: number[];
    shown?: number;
    /** Segmentor: class index per pixel, row-major height x width. */
    sem_seg?: number[];
    height?: number;
    width?: number;
  };
}

/** Where and how to open the page. */
export interface PageRun {
  /** Base URL of the served page (e.g. tools/lib/static_server's url). */
  url: string;
  /** Query string of the page (task=, backend=, weights=, img=, thr=, runs=; see web/main.ts). */
  query: string;
  webgpu: boolean;
  /** Full-page PNG written here once the page is done (or failed). */
  screenshot: string;
  /** Fresh Chromium profile folder (removed first). */
  profileDir: string;
  /** How long the page may take to finish, ms. */
  timeoutMs: number;
  viewport?: { width: number; height: number };
}

/**
 * Opens the page in a fresh headless Chromium, waits until it reports done or error, saves a
 * screenshot, closes the browser and returns the state. Throws (with the page's console) when the
 * page reports an error; playwright's TimeoutError when it takes longer than timeoutMs.
 */
export async function runPage(opts: PageRun): Promise<PageState> {
  const { chromium } = await import('playwright-core');
  rmSync(opts.profileDir, { recursive: true, force: true });
  const ctx = await chromium.launchPersistentContext(resolve(opts.profileDir), {
    executablePath: CHROMIUM,
    headless: true,
    args: chromiumArgs(opts.webgpu),
    viewport: opts.viewport ?? { width: 1280, height: 720 },
  });
  const logs: string[] = [];
  try {
    const page = await ctx.newPage();
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(`${opts.url}/?${opts.query}`);
    await page.waitForFunction(() => ['done', 'error'].includes((window as unknown as { __tvd: PageState }).__tvd?.state), null, {
      timeout: opts.timeoutMs,
      polling: 500,
    });
    const st = (await page.evaluate(() => (window as unknown as { __tvd: PageState }).__tvd)) as PageState;
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    if (st.state !== 'done') throw new Error(`page failed: ${st.error}\n${logs.join('\n')}`);
    return st;
  } finally {
    await ctx.close();
  }
}

/** Builds the page with Vite (as `npm run build:web`, whatever the working directory) into `outDir`. */
export async function buildPage(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: resolve(REPO, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}

export const haveChromium = (): boolean => existsSync(CHROMIUM);
