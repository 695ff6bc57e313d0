// tools/web_screenshot: the demo page (web/) with trained checkpoints in headless Chromium. Builds the
// page with Vite, serves it with the checkpoints and the image, runs the detector and/or the segmentor
// in Debian's chromium (playwright-core, no browser download) on one backend, checks that the page
// reports the Node API's predictions on the same image and weights (wasm in Node), saves full-page
// screenshots and writes a JSON report with the per-image times.
//
//   tools/web_screenshot                                  # both demo models, wasm, into docs/
//   tools/web_screenshot --backend webgpu --tasks det     # WebGPU (SwiftShader here: slow)
//
// Outputs: <out-dir>/web_detector[_<backend>].png, web_segmentor[_<backend>].png (no suffix for
// wasm) and <out-dir>/web_report_<backend>.json. Exit 1 when the page and Node disagree.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { initDetector, initSegmentor, inferenceDetector, inferenceSegmentor, loadImage } from '../index';
import type { DetectionResult } from '../structures/results';
import { CHROMIUM, type PageState, buildPage, haveChromium, runPage } from './lib/chromium_page';
import { failLine, runTool, setupBackend } from './lib/cli';
import { compareDetections } from './lib/det_compare';
import { checkWritableDir } from './lib/paths';
import { serveStatic } from './lib/static_server';

type Task = 'det' | 'seg';
const SHOT_NAME: Record<Task, string> = { det: 'web_detector', seg: 'web_segmentor' };

/** Agreement of the page with Node, and the page's figures, for one task. */
interface TaskReport {
  task: Task;
  weights: string;
  image: string;
  screenshot: string;
  backend: string;
  /** ms: the first run (includes kernel/shader compilation), the timed runs after it, their median. */
  first_ms: number;
  timed_ms: number[];
  median_ms: number;
  weight_bytes: number;
  params: number;
  agreement: Record<string, number | string>;
  problems: string[];
  /** Detector: what the page reported, [x1, y1, x2, y2] px (0.1 px), score (3 decimals), class, mask area (px). */
  detections?: { bbox: number[]; score: number; label: string; mask_area: number }[];
}

/** Page detections vs Node's: same set (label, box within 0.05 px, score within 1e-4), mask areas within 1% (2 px). */
function checkDetections(page: NonNullable<PageState['result']>, node: DetectionResult): { agreement: TaskReport['agreement']; problems: string[] } {
  const web: DetectionResult = {
    bboxes: Float32Array.from((page.bboxes ?? []).flat()),
    scores: Float32Array.from(page.scores ?? []),
    labels: Int32Array.from(page.labels ?? []),
  };
  const d = compareDetections({ ...node, masks: undefined }, web, { boxTol: 0.05, scoreTol: 1e-4 });
  let maxRel = 0;
  d.pairs.forEach((j, i) => {
    if (j < 0 || !node.masks) return;
    const area = node.masks[i].reduce((a, b) => a + b, 0);
    const diff = Math.abs((page.maskAreas?.[j] ?? 0) - area);
    maxRel = Math.max(maxRel, diff / Math.max(area, 1));
    if (diff > Math.max(2, area * 0.01)) d.problems.push(`detection ${i}: mask area ${page.maskAreas?.[j]} px in the page, ${area} px in Node`);
  });
  return {
    agreement: { detections: node.scores.length, shown: page.shown ?? -1, max_box_diff_px: d.maxBoxDiff, max_score_diff: d.maxScoreDiff, max_mask_area_rel_diff: maxRel },
    problems: d.problems,
  };
}

/** Page label map vs Node's: same size and at least 99% equal pixels (GPU rounding may flip near-ties). */
function checkLabelMap(page: NonNullable<PageState['result']>, node: { height: number; width: number; sem_seg: ArrayLike<number> }): { agreement: TaskReport['agreement']; problems: string[] } {
  if (page.height !== node.height || page.width !== node.width) {
    return { agreement: {}, problems: [`label map ${page.height}x${page.width} in the page, ${node.height}x${node.width} in Node`] };
  }
  let same = 0;
  for (let i = 0; i < node.sem_seg.length; i++) if (page.sem_seg?.[i] === node.sem_seg[i]) same++;
  const frac = same / node.sem_seg.length;
  const classes = new Set(Array.from(node.sem_seg)).size;
  return { agreement: { equal_pixel_fraction: frac, classes_present: classes }, problems: frac >= 0.99 ? [] : [`only ${(frac * 100).toFixed(2)}% of the pixels have the same label`] };
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/web_screenshot')
    .usage('$0 [options]\n\nRuns the demo page with trained checkpoints in headless Chromium, checks it against the Node API and saves screenshots.')
    .option('det', { type: 'string', default: 'work_dirs/demo_mask_rcnn/latest.safetensors', describe: 'detector checkpoint (npm run demo; tools/export_weights output works too)' })
    .option('seg', { type: 'string', default: 'work_dirs/demo_sem_fpn/latest.safetensors', describe: 'segmentor checkpoint (npm run demo:seg)' })
    .option('tasks', { type: 'string', array: true, choices: ['det', 'seg'], default: ['det', 'seg'], describe: 'which models to run' })
    .option('img', { type: 'string', default: 'web/assets/demo.png', describe: 'image (PNG or JPEG)' })
    .option('backend', { type: 'string', choices: ['wasm', 'webgpu'], default: 'wasm', describe: 'backend in the page (Node always runs wasm)' })
    .option('runs', { type: 'number', default: 3, describe: 'timed runs after the first (the median is reported)' })
    .option('thr', { type: 'number', default: 0.3, describe: 'score threshold of the drawn detections' })
    .option('out-dir', { type: 'string', default: 'docs', describe: 'screenshots and the JSON report' })
    .option('work-dir', { type: 'string', default: 'test-output/web_screenshot', describe: 'built page and browser profiles' })
    .option('timeout', { type: 'number', default: 1800, describe: 'seconds the page may take per model' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const tasks = [...new Set(argv.tasks as Task[])];
  if (!haveChromium()) throw new UserError(`${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)`);
  if (!Number.isInteger(argv.runs) || argv.runs < 0) throw new UserError(`--runs: expected a whole number >= 0, got ${argv.runs}`);
  const weights: Record<Task, string> = { det: resolve(argv.det), seg: resolve(argv.seg) };
  for (const t of tasks) {
    if (!existsSync(weights[t])) {
      const how = t === 'det' ? 'npm run demo' : 'npm run demo:seg';
      throw new UserError(`--${t} ${argv[t]}: no such checkpoint (train it with \`${how}\`, or pass an exported one)`);
    }
  }
  const image = resolve(argv.img);
  if (!existsSync(image)) throw new UserError(`--img ${argv.img}: no such image`);
  checkWritableDir(argv['out-dir'], '--out-dir');
  const work = resolve(argv['work-dir']);
  mkdirSync(work, { recursive: true });

  console.log('building the page (vite)…');
  await buildPage(join(work, 'site'));
  const routes: Record<string, string> = { '/': join(work, 'site'), '/img/': dirname(image) };
  for (const t of tasks) routes[`/weights/${t}/`] = dirname(weights[t]);
  const server = await serveStatic(routes);
  await setupBackend('wasm');
  const reports: TaskReport[] = [];
  try {
    for (const t of tasks) {
      const suffix = argv.backend === 'wasm' ? '' : `_${argv.backend}`;
      const shot = join(argv['out-dir'], `${SHOT_NAME[t]}${suffix}.png`);
      const q = new URLSearchParams({
        task: t,
        backend: argv.backend,
        weights: `/weights/${t}/${encodeURIComponent(basename(weights[t]))}`,
        img: `/img/${encodeURIComponent(basename(image))}`,
        thr: String(argv.thr),
        runs: String(argv.runs),
      });
      console.log(`${t}: running the page on ${argv.backend}…`);
      const st = await runPage({
        url: server.url,
        query: q.toString(),
        webgpu: argv.backend === 'webgpu',
        screenshot: shot,
        profileDir: join(work, `profile-${t}-${argv.backend}`),
        timeoutMs: argv.timeout * 1000,
      });
      console.log(`${t}: Node API on the same image and weights (wasm)…`);
      const px = await loadImage(image);
      let check: { agreement: TaskReport['agreement']; problems: string[] };
      let names: string[] = [];
      if (t === 'det') {
        const det = await initDetector(null, weights.det);
        names = det.classes ?? [];
        const node = await inferenceDetector(det, px);
        det.model.module.dispose();
        check = checkDetections(st.result ?? {}, node);
      } else {
        const seg = await initSegmentor(null, weights.seg);
        const node = await inferenceSegmentor(seg, px);
        seg.model.module.dispose();
        check = checkLabelMap(st.result ?? {}, node);
      }
      const r: TaskReport = {
        task: t,
        weights: argv[t],
        image: argv.img,
        screenshot: shot,
        backend: st.backend ?? '?',
        first_ms: Math.round(st.firstMs ?? NaN),
        timed_ms: (st.timedMs ?? []).map(Math.round),
        median_ms: Math.round(st.medianMs ?? NaN),
        weight_bytes: st.weightBytes ?? 0,
        params: st.params ?? 0,
        ...check,
      };
      if (t === 'det') {
        // Class names from the same weights as read by Node (the page draws them from there too).
        const res = st.result ?? {};
        r.detections = (res.scores ?? []).map((score, i) => ({
          bbox: (res.bboxes?.[i] ?? []).map((v) => Math.round(v * 10) / 10),
          score: Math.round(score * 1000) / 1000,
          label: names[res.labels?.[i] ?? -1] ?? String(res.labels?.[i]),
          mask_area: res.maskAreas?.[i] ?? 0,
        }));
      }
      reports.push(r);
      console.log(
        `${t}: ${shot}; backend ${r.backend}; first run ${r.first_ms} ms, median of ${r.timed_ms.length} timed runs ${r.median_ms} ms; ` +
          `${(r.weight_bytes / 1e6).toFixed(1)} MB weights, ${(r.params / 1e6).toFixed(2)} M parameters; ` +
          `vs Node: ${Object.entries(r.agreement).map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toExponential(2) : v}`).join(', ')}` +
          (r.problems.length ? `\n  DISAGREES: ${r.problems.slice(0, 5).join('; ')}${r.problems.length > 5 ? ` (+${r.problems.length - 5} more)` : ''}` : ''),
      );
    }
  } finally {
    await server.close();
  }
  const report = join(argv['out-dir'], `web_report_${argv.backend}.json`);
  const chromium = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const meta = { command: `tools/web_screenshot ${hideBin(process.argv).join(' ')}`.trim(), date: new Date().toISOString(), chromium };
  writeFileSync(report, `${JSON.stringify({ ...meta, reports }, null, 2)}\n`);
  console.log(`report: ${report}`);
  return reports.some((r) => r.problems.length) ? 1 : 0;
});
