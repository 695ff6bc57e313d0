// The demo page: pick or drop an image, choose detection or segmentation, run on WebGPU when the
// browser offers it (else wasm), draw the result, show backend, time per image and model size.
// Query parameters (used by the tests, handy for links): task=det|seg, weights=<url>,
// backend=auto|webgpu|wasm|cpu, img=<url>, thr=<score threshold>, runs=<timed runs after a warm-up>.
// window.__tvd exposes the state and the last result as plain JSON for the browser tests.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import {
  type BackendRequest,
  type Detector,
  type RgbPixels,
  type Segmentor,
  initDetector,
  initSegmentor,
  inferenceDetector,
  inferenceSegmentor,
  loadImage,
  parameterCount,
  selectBackend,
} from '../index';
import { drawDetections, drawSegmentation } from './draw';
import demoImage from './assets/demo.png?url';

setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });

type Task = 'det' | 'seg';
const DEFAULT_WEIGHTS: Record<Task, string> = {
  det: './work_dirs/demo_mask_rcnn/latest.safetensors',
  seg: './work_dirs/demo_sem_fpn/latest.safetensors',
};

interface PageState {
  state: 'loading' | 'running' | 'done' | 'error';
  error?: string;
  backend?: string;
  task?: Task;
  /** Milliseconds: the first run (includes kernel compilation) and the median of the timed runs. */
  firstMs?: number;
  medianMs?: number;
  timedMs?: number[];
  weightBytes?: number;
  params?: number;
  result?: unknown;
}
const page: PageState = { state: 'loading' };
(window as unknown as { __tvd: PageState }).__tvd = page;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const taskSel = $<HTMLSelectElement>('task');
const weightsIn = $<HTMLInputElement>('weights');
const backendSel = $<HTMLSelectElement>('backend');
const thrIn = $<HTMLInputElement>('thr');
const canvas = $<HTMLCanvasElement>('out');

taskSel.value = params.get('task') === 'seg' ? 'seg' : 'det';
backendSel.value = params.get('backend') ?? 'auto';
thrIn.value = params.get('thr') ?? thrIn.value;
weightsIn.value = params.get('weights') ?? DEFAULT_WEIGHTS[taskSel.value as Task];
taskSel.onchange = () => (weightsIn.value = DEFAULT_WEIGHTS[taskSel.value as Task]);

function status(text: string, error = false): void {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

let backendName: string | null = null;
async function ensureBackend(req: string): Promise<string> {
  if (backendName && (req === 'auto' || req === backendName)) return backendName;
  if (req === 'auto') {
    // WebGPU when the browser offers an adapter, else wasm (never the slow cpu backend by default).
    try {
      backendName = (await selectBackend('webgpu')).name;
    } catch {
      backendName = (await selectBackend('wasm')).name;
    }
  } else backendName = (await selectBackend(req as BackendRequest)).name;
  return backendName;
}

const models = new Map<string, Detector | Segmentor>();
// For the browser console and the tests: the tfjs instance and the loaded models.
(window as unknown as { __tvdDebug: unknown }).__tvdDebug = { tf, models, initDetector, initSegmentor, inferenceDetector, inferenceSegmentor, loadImage, selectBackend, demoImage };
async function model(task: Task, url: string): Promise<Detector | Segmentor> {
  const key = `${task} ${url}`;
  if (!models.has(key)) models.set(key, task === 'det' ? await initDetector(null, url) : await initSegmentor(null, url));
  return models.get(key)!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let image: RgbPixels | null = null;
async function run(): Promise<void> {
  if (!image) return;
  page.state = 'running';
  try {
    const task = taskSel.value as Task;
    status('selecting backend…');
    const backend = await ensureBackend(backendSel.value);
    $('f-backend').textContent = backend;
    status(`loading ${weightsIn.value}…`);
    const m = await model(task, weightsIn.value);
    const runs = Math.max(0, Number(params.get('runs') ?? 0));
    const once = async () => {
      const t0 = performance.now();
      const r = task === 'det' ? await inferenceDetector(m as Detector, image!) : await inferenceSegmentor(m as Segmentor, image!);
      return { r, ms: performance.now() - t0 };
    };
    status('running…');
    const first = await once();
    const timed: number[] = [];
    let last = first;
    for (let i = 0; i < runs; i++) timed.push((last = await once()).ms);
    const thr = Number(thrIn.value);
    let summary: string;
    if (task === 'det') {
      const r = last.r as Awaited<ReturnType<typeof inferenceDetector>>;
      const shown = drawDetections(canvas, image, r, m.classes, thr);
      summary = `${r.scores.length} detections, ${shown} with score ≥ ${thr}`;
      page.result = {
        bboxes: Array.from({ length: r.scores.length }, (_, i) => Array.from(r.bboxes.subarray(i * 4, i * 4 + 4))),
        scores: Array.from(r.scores),
        labels: Array.from(r.labels),
        maskAreas: (r.masks ?? []).map((mk) => mk.reduce((a, b) => a + b, 0)),
        shown,
      };
    } else {
      const r = last.r as Awaited<ReturnType<typeof inferenceSegmentor>>;
      const counts = drawSegmentation(canvas, image, r, m.classes);
      summary = [...counts].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${m.classes?.[k] ?? k}: ${n} px`).join(', ');
      page.result = { height: r.height, width: r.width, sem_seg: Array.from(r.sem_seg) };
    }
    page.firstMs = first.ms;
    page.timedMs = timed;
    page.medianMs = timed.length ? median(timed) : first.ms;
    page.backend = backend;
    page.task = task;
    page.weightBytes = m.weightBytes;
    page.params = parameterCount(m);
    $('f-time').textContent = timed.length
      ? `${page.medianMs.toFixed(0)} ms (median of ${timed.length}; first run ${first.ms.toFixed(0)} ms incl. kernel compilation)`
      : `${first.ms.toFixed(0)} ms (first run, incl. kernel compilation; run again for a warm time)`;
    $('f-size').textContent = `${(m.weightBytes / 1e6).toFixed(1)} MB weights, ${(page.params / 1e6).toFixed(2)} M parameters`;
    $('f-result').textContent = summary;
    status(`done (${tf.memory().numTensors} tensors live)`);
    page.state = 'done';
  } catch (e) {
    page.state = 'error';
    page.error = (e as Error).message;
    status(`error: ${(e as Error).message}`, true);
  }
}

async function setImage(input: Blob | string): Promise<void> {
  image = await loadImage(typeof input === 'string' ? input : new Uint8Array(await input.arrayBuffer()));
  await run();
}

$<HTMLInputElement>('file').onchange = (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (f) void setImage(f);
};
const drop = $('drop');
drop.ondragover = (e) => {
  e.preventDefault();
  drop.classList.add('over');
};
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files?.[0];
  if (f) void setImage(f);
};
$('run').onclick = () => void run();

// autorun=0: load nothing (for debugging from the console).
if (params.get('autorun') !== '0') void setImage(params.get('img') ?? demoImage);
