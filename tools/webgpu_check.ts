// tools/webgpu_check: one command that checks and times the TinyViM backbone on a backend (made for
// webgpu on the GPU machine; --backend wasm runs the same code here). Sections, each recorded in the
// JSON report (rewritten after every section, so a run cut short still leaves its results):
//   backend   the selected backend and, on webgpu, the adapter
//   fixtures  every TinyViM parity check of the cpu tests, against the PyTorch fixtures
//   train     one forward+backward+AdamW step of a small conv/BN/linear classifier on cpu and on
//             the backend, same init and data: both losses and the max parameter difference after
//   timing    TinyViM-S cls 224 batch 64, TinyViM-B backbone 800x1344 batch 1, and a B backbone
//             train step 800x1344 batch 2 (warm-up, median; synchronised by awaiting data())
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { TinyViM, TinyViM_B, TinyViM_S, resolveTinyViMConfig } from '../backbones/tinyvim';
import { describeBackend, selectBackend } from '../ops/backend';
import { loadStateDict, loadWeights } from '../checkpoint';
import { UserError } from '../core/errors';
import { type RawTensor, readSafetensors } from '../checkpoint/formats/safetensors';
import { AdamW } from '../engine/optimizers';
import { buildParamEntries } from '../engine/param_groups';
import { BatchNorm2d, Conv2d, Linear } from '../nn/layers';
import { Module } from '../nn/module';
import { crossMerge, crossScan } from '../ops/selective_scan/cross_scan';
import { selectiveScan } from '../ops/selective_scan/selective_scan';
import { failLine, runTool } from './lib/cli';
import { median } from './lib/bench';

/** The fixture files this tool reads (all in test/fixtures/tinyvim, the default --fixtures). */
export const FIXTURE_FILES = [
  'selective_scan.safetensors',
  'cross_scan_merge.safetensors',
  'tiny_backbone.weights.safetensors',
  'tiny_backbone.io.safetensors',
  'tiny_backbone.train_grad.safetensors',
  'tiny_cls.weights.safetensors',
  'tiny_cls.io.safetensors',
  'tiny_backbone.pth',
];

// Tolerances: 'strict' are the cpu tests' (fixtures README); 'loose' is 10x, for float32 GPU kernels
// whose accumulation order differs. A check passes when its loose test passes; both are reported.
const TOL = { strict: { atol: 1e-4, rtol: 1e-4, grad: 1e-4 }, loose: { atol: 1e-3, rtol: 1e-3, grad: 1e-3 } };

interface Comparison {
  what: string;
  max_abs_diff: number;
  /** Outputs: max of |a-b| / (atol + rtol|b|) at strict tolerance; gradients: max|a-b| / max|b|. */
  score: number;
  strict: boolean;
  loose: boolean;
}

interface Section {
  name: string;
  ok: boolean;
  seconds: number;
  comparisons?: Comparison[];
  detail?: Record<string, unknown>;
  error?: string;
}

const toNHWC = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
const toNCHW = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]) as tf.Tensor4D;

/** Host copies for comparison: always through async data() (readSync does not exist on webgpu in Node). */
async function host(t: tf.Tensor): Promise<Float32Array> {
  const v = await t.data();
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

class Checker {
  readonly comparisons: Comparison[] = [];

  private push(c: Comparison): void {
    this.comparisons.push(c);
  }

  /** Output check: |a - b| <= atol + rtol |b| everywhere. */
  async close(a: tf.Tensor, ref: tf.Tensor, what: string): Promise<void> {
    if (!tf.util.arraysEqual(a.shape, ref.shape)) throw new Error(`${what}: shape [${a.shape}] vs reference [${ref.shape}]`);
    const [x, y] = [await host(a), await host(ref)];
    let maxAbs = 0;
    let score = 0;
    let loose = true;
    for (let i = 0; i < y.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Number.NaN : Math.max(maxAbs, d);
      const s = d / (TOL.strict.atol + TOL.strict.rtol * Math.abs(y[i]));
      if (!(s <= score)) score = Number.isNaN(s) ? Number.NaN : Math.max(score, s);
      if (!(d <= TOL.loose.atol + TOL.loose.rtol * Math.abs(y[i]))) loose = false;
    }
    this.push({ what, max_abs_diff: maxAbs, score, strict: score <= 1, loose });
  }

  /** Gradient check: max |a - b| <= rel * max |b|. */
  async grad(a: tf.Tensor, ref: tf.Tensor, what: string): Promise<void> {
    if (!tf.util.arraysEqual(a.shape, ref.shape)) throw new Error(`${what}: shape [${a.shape}] vs reference [${ref.shape}]`);
    const [x, y] = [await host(a), await host(ref)];
    let maxAbs = 0;
    let scale = 0;
    for (let i = 0; i < y.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      maxAbs = Number.isNaN(d) || Number.isNaN(maxAbs) ? Number.NaN : Math.max(maxAbs, d);
      scale = Math.max(scale, Math.abs(y[i]));
    }
    const score = maxAbs / scale;
    this.push({ what, max_abs_diff: maxAbs, score, strict: score <= TOL.strict.grad, loose: score <= TOL.loose.grad });
  }
}

// ------------------------------------------------------------------ fixtures

class Fixtures {
  constructor(readonly dir: string) {}
  path(name: string): string {
    const p = join(this.dir, name);
    if (!existsSync(p)) throw new UserError(`fixture missing: ${p} (the repository's test/fixtures/tinyvim holds every file this tool reads)`);
    return p;
  }
  read(name: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
    const p = this.path(name);
    return readSafetensors(readFileSync(p), p);
  }
}

function tensorOf(m: Map<string, RawTensor>, key: string): tf.Tensor {
  const t = m.get(key);
  if (!t) throw new Error(`fixture tensor '${key}' missing`);
  return tf.tensor(Float32Array.from(t.data as ArrayLike<number>), t.shape, 'float32');
}

function tinyModel(fx: Fixtures, weightsFile: string): TinyViM {
  const w = fx.read(weightsFile);
  const meta = JSON.parse(w.metadata.config) as Record<string, unknown>;
  const keys = ['layers', 'embed_dims', 'mlp_ratios', 'downsamples', 'ssm_num', 'fork_feat', 'num_classes', 'distillation'];
  const model = new TinyViM(resolveTinyViMConfig(Object.fromEntries(keys.filter((k) => k in meta).map((k) => [k, meta[k]]))));
  loadStateDict(model, w.tensors, { strict: true, source: weightsFile });
  return model;
}

type FixtureCheck = (fx: Fixtures, c: Checker) => Promise<void>;

const SCAN_NAMES = ['u', 'delta', 'A', 'B', 'C', 'D', 'delta_bias'];

const FIXTURE_CHECKS: [string, FixtureCheck][] = [
  [
    'selective_scan',
    async (fx, c) => {
      const f = fx.read('selective_scan.safetensors').tensors;
      const ins = SCAN_NAMES.map((n) => tensorOf(f, n));
      const w = tensorOf(f, 'w');
      const run = (...xs: tf.Tensor[]) =>
        selectiveScan(xs[0] as tf.Tensor3D, xs[1] as tf.Tensor3D, xs[2] as tf.Tensor2D, xs[3] as tf.Tensor4D, xs[4] as tf.Tensor4D, xs[5], xs[6], { deltaSoftplus: true });
      await c.close(run(...ins), tensorOf(f, 'y'), 'y');
      const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(run(...xs), w)))(ins);
      for (let i = 0; i < SCAN_NAMES.length; i++) await c.grad(grads[i], tensorOf(f, `grad.${SCAN_NAMES[i]}`), `grad.${SCAN_NAMES[i]}`);
    },
  ],
  [
    'cross_scan_merge',
    async (fx, c) => {
      const f = fx.read('cross_scan_merge.safetensors').tensors;
      const x = tensorOf(f, 'x') as tf.Tensor4D;
      const ys = tensorOf(f, 'ys') as tf.Tensor5D;
      await c.close(crossScan(x), tensorOf(f, 'cross_scan'), 'cross_scan');
      await c.close(crossMerge(ys), tensorOf(f, 'cross_merge'), 'cross_merge');
      const wS = tensorOf(f, 'w_cross_scan');
      const wM = tensorOf(f, 'w_cross_merge');
      await c.grad(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(crossScan(t as tf.Tensor4D), wS)))(x), tensorOf(f, 'grad.x'), 'grad.x');
      await c.grad(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(crossMerge(t as tf.Tensor5D), wM)))(ys), tensorOf(f, 'grad.ys'), 'grad.ys');
    },
  ],
  [
    'tiny_backbone_eval',
    async (fx, c) => {
      const model = tinyModel(fx, 'tiny_backbone.weights.safetensors').eval();
      const io = fx.read('tiny_backbone.io.safetensors').tensors;
      const x = toNHWC(tensorOf(io, 'input'));
      for (const tag of ['unfused', 'fused']) {
        if (tag === 'fused') model.fuse();
        const outs = model.forwardFeatures(x);
        for (let i = 0; i < outs.length; i++) await c.close(toNCHW(outs[i]), tensorOf(io, `out${i}`), `${tag} out${i}`);
      }
      model.dispose();
    },
  ],
  [
    'tiny_backbone_train',
    async (fx, c) => {
      const model = tinyModel(fx, 'tiny_backbone.weights.safetensors').train();
      const f = fx.read('tiny_backbone.train_grad.safetensors');
      const t = f.tensors;
      const gradNames = JSON.parse(f.metadata.grad_params) as string[];
      const slots = new Map(model.namedSlots());
      const x = tf.variable(toNHWC(tensorOf(t, 'input')), true);
      const ws = [0, 1, 2, 3].map((i) => toNHWC(tensorOf(t, `w${i}`)));
      let outs: tf.Tensor4D[] = [];
      const varList = [x, ...gradNames.map((n) => slots.get(n)!.variable)];
      const { value, grads } = tf.variableGrads(() => {
        outs = model.forwardFeatures(x).map((o) => tf.keep(o));
        return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, ws[i])))) as tf.Scalar;
      }, varList);
      for (let i = 0; i < outs.length; i++) await c.close(toNCHW(outs[i]), tensorOf(t, `out${i}`), `train out${i}`);
      await c.close(tf.reshape(value, [1]), tensorOf(t, 'loss'), 'loss');
      await c.grad(toNCHW(grads[x.name]), tensorOf(t, 'grad.input'), 'grad.input');
      for (const n of gradNames) {
        const slot = slots.get(n)!;
        const g = grads[slot.variable.name];
        const torchG = slot.layout === 'conv2d' ? tf.transpose(g, [3, 2, 0, 1]) : slot.layout === 'dwconv' ? tf.transpose(g, [2, 3, 0, 1]) : g;
        await c.grad(torchG, tensorOf(t, `grad.${n}`), `grad.${n}`);
      }
      for (const idx of [0, 6]) {
        const bn = model.outNorms.get(idx)!;
        await c.close(bn.runningMean, tensorOf(t, `after.norm${idx}.running_mean`), `norm${idx}.running_mean`);
        await c.close(bn.runningVar, tensorOf(t, `after.norm${idx}.running_var`), `norm${idx}.running_var`);
      }
      tf.dispose([x, ...outs]);
      model.dispose();
    },
  ],
  [
    'tiny_cls',
    async (fx, c) => {
      const model = tinyModel(fx, 'tiny_cls.weights.safetensors').eval();
      const io = fx.read('tiny_cls.io.safetensors').tensors;
      const x = toNHWC(tensorOf(io, 'input'));
      await c.close(model.forwardLogits(x) as tf.Tensor, tensorOf(io, 'logits'), 'logits');
      const pooled = model.forwardPooled(x);
      await c.close(pooled, tensorOf(io, 'pooled_features'), 'pooled_features');
      await c.close(model.head!.forward(pooled), tensorOf(io, 'logits_head'), 'logits_head');
      await c.close(model.distHead!.forward(pooled), tensorOf(io, 'logits_dist_head'), 'logits_dist_head');
      model.fuse();
      await c.close(model.forwardLogits(x) as tf.Tensor, tensorOf(io, 'logits'), 'fused logits');
      model.dispose();
    },
  ],
  [
    'tiny_backbone_pth',
    async (fx, c) => {
      // The real torch.save checkpoint (int64 num_batches_tracked) must give the same outputs.
      const model = new TinyViM(resolveTinyViMConfig({ layers: [1, 1, 3, 1], embed_dims: [16, 32, 48, 64], fork_feat: true }));
      loadWeights(model, fx.path('tiny_backbone.pth'), { strict: true });
      model.eval();
      const io = fx.read('tiny_backbone.io.safetensors').tensors;
      const outs = model.forwardFeatures(toNHWC(tensorOf(io, 'input')));
      for (let i = 0; i < outs.length; i++) await c.close(toNCHW(outs[i]), tensorOf(io, `out${i}`), `pth out${i}`);
      model.dispose();
    },
  ],
];

// ------------------------------------------------------------------ train step parity

/** A small classifier touching the training kernels of the backbone: dense/depth-wise/1x1 conv, BN, GELU, linear. */
class SmallNet extends Module {
  readonly conv1 = this.child('conv1', new Conv2d(3, 16, 3, { padding: 1, bias: false }));
  readonly bn1 = this.child('bn1', new BatchNorm2d(16));
  // No biases before a BN: their gradient is zero up to rounding, and Adam would amplify the rounding.
  readonly dw = this.child('dw', new Conv2d(16, 16, 3, { stride: 2, padding: 1, groups: 16, bias: false }));
  readonly pw = this.child('pw', new Conv2d(16, 32, 1, { bias: false }));
  readonly bn2 = this.child('bn2', new BatchNorm2d(32));
  readonly fc = this.child('fc', new Linear(32, 5));
  forward(x: tf.Tensor4D): tf.Tensor2D {
    const h1 = tf.relu(this.bn1.forward(this.conv1.forward(x)));
    const h2 = this.bn2.forward(this.pw.forward(this.dw.forward(h1)));
    const g = tf.mul(tf.mul(h2, 0.5), tf.add(1, tf.erf(tf.mul(h2, Math.SQRT1_2))));
    return this.fc.forward(tf.mean(g, [1, 2])) as tf.Tensor2D;
  }
}

/** mulberry32: the same numbers on every backend. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Overwrites every trainable parameter with seeded values (scale 1/sqrt(fan-in) for weights). */
function seedParameters(m: Module, seed: number): void {
  const r = rng(seed);
  for (const [name, v] of m.namedParameters()) {
    const fan = v.rank >= 2 ? v.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    const isNormWeight = v.rank === 1 && name.endsWith('weight');
    const vals = Float32Array.from({ length: v.size }, () => (isNormWeight ? 1 : 0) + (r() * 2 - 1) * (v.rank >= 2 ? 1 / Math.sqrt(fan) : 0.1));
    tf.tidy(() => v.assign(tf.tensor(vals, v.shape, 'float32')));
  }
}

/** One forward+backward+AdamW step; returns the loss (the caller awaits it). */
function trainStep(module: Module, opt: AdamW, lossFn: () => tf.Scalar): tf.Scalar {
  const entries = opt.params;
  const { value, grads } = tf.variableGrads(lossFn, entries.map((e) => e.variable));
  opt.step(Object.fromEntries(entries.map((e) => [e.name, grads[e.variable.name]])), entries.map((e) => e.baseLr));
  tf.dispose(Object.values(grads));
  return value;
}

async function smallNetStep(): Promise<{ loss: number; params: Map<string, Float32Array> }> {
  const net = new SmallNet().train();
  seedParameters(net, 1234);
  const r = rng(99);
  const x = tf.tensor4d(Float32Array.from({ length: 8 * 16 * 16 * 3 }, () => r() * 2 - 1), [8, 16, 16, 3]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from({ length: 8 }, (_, i) => i % 5), 'int32'), 5));
  const opt = new AdamW(buildParamEntries(net, 1e-2, 0.05));
  const loss = trainStep(net, opt, () => tf.losses.softmaxCrossEntropy(labels, net.forward(x)) as tf.Scalar);
  const out = { loss: (await host(loss))[0], params: new Map<string, Float32Array>() };
  for (const [name, v] of net.namedParameters()) out.params.set(name, await host(v));
  tf.dispose([loss, x, labels]);
  opt.dispose();
  net.dispose();
  return out;
}

// ------------------------------------------------------------------ timing


async function timeRuns(warmup: number, runs: number, once: () => Promise<void>): Promise<{ runs_ms: number[]; median_ms: number; first_ms: number }> {
  const all: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = performance.now();
    await once();
    all.push(performance.now() - t0);
  }
  const timed = all.slice(warmup);
  return { runs_ms: timed.map((t) => +t.toFixed(1)), median_ms: +median(timed).toFixed(1), first_ms: +all[0].toFixed(1) };
}

interface TimingCase {
  name: string;
  run: (warmup: number, runs: number) => Promise<Record<string, unknown>>;
}

function timingCases(scale: 'full' | 'small'): TimingCase[] {
  const full = scale === 'full';
  const cls = { batch: full ? 64 : 2, h: 224, w: 224 };
  const det = { h: full ? 800 : 256, w: full ? 1344 : 320 };
  const forwardCase = (name: string, build: () => TinyViM, batch: number, h: number, w: number): TimingCase => ({
    name,
    run: async (warmup, runs) => {
      const model = build().eval();
      const x = tf.randomUniform([batch, h, w, 3], 0, 1) as tf.Tensor4D;
      const t = await timeRuns(warmup, runs, async () => {
        const out = model.forward(x);
        const outs = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
        await Promise.all(outs.map((o) => o.data()));
        tf.dispose(outs);
      });
      tf.dispose(x);
      model.dispose();
      return { input: [batch, 3, h, w], ...t, images_per_s: +((batch * 1000) / t.median_ms).toFixed(2) };
    },
  });
  return [
    forwardCase('TinyViM_S_cls_forward', () => TinyViM_S({ fork_feat: false }), cls.batch, cls.h, cls.w),
    forwardCase('TinyViM_B_backbone_forward', () => TinyViM_B({ fork_feat: true }), 1, det.h, det.w),
    {
      name: 'TinyViM_B_backbone_train_step',
      run: async (warmup, runs) => {
        const model = TinyViM_B({ fork_feat: true }).train();
        const x = tf.randomUniform([2, det.h, det.w, 3], 0, 1) as tf.Tensor4D;
        const opt = new AdamW(buildParamEntries(model, 1e-4, 0.05));
        const last = opt.params[opt.params.length - 1].variable;
        let loss = 0;
        const t = await timeRuns(warmup, runs, async () => {
          const l = trainStep(model, opt, () => tf.addN(model.forwardFeatures(x).map((o) => tf.mean(tf.square(o)))) as tf.Scalar);
          // The queue runs in order: reading a value computed from the last updated parameter waits for the whole step.
          const probe = tf.tidy(() => tf.sum(last));
          loss = (await host(l))[0];
          await probe.data();
          tf.dispose([l, probe]);
        });
        tf.dispose(x);
        opt.dispose();
        model.dispose();
        return { input: [2, 3, det.h, det.w], ...t, last_loss: loss, finite: Number.isFinite(loss) };
      },
    },
  ];
}

// ------------------------------------------------------------------ main

async function adapterInfo(): Promise<Record<string, unknown>> {
  const gpu = (globalThis as unknown as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (!gpu) return {};
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: Record<string, unknown>; requestAdapterInfo?: () => Promise<Record<string, unknown>>; limits?: Record<string, number> } | null;
    if (!adapter) return { adapter: null };
    const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    const pick = (o: Record<string, unknown>) => Object.fromEntries(['vendor', 'architecture', 'device', 'description'].map((k) => [k, o[k]]));
    return { ...pick(info), maxStorageBufferBindingSize: adapter.limits?.maxStorageBufferBindingSize, maxBufferSize: adapter.limits?.maxBufferSize };
  } catch (e) {
    return { error: String((e as Error).message ?? e) };
  }
}

interface GPUDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

const errorText = (e: unknown): string => String((e as Error)?.stack ?? e).split('\n').slice(0, 4).join(' | ');

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/webgpu_check')
    .usage(
      '$0 [--fixtures DIR] --out report.json [--backend webgpu|wasm|cpu] [--timing full|small|none]\n\n' +
        'Checks the TinyViM backbone on a backend against the PyTorch fixtures, compares one training step with cpu,\n' +
        'and times forward/train steps. Writes a JSON report (after every section); exit code 0 when every check passed.\n' +
        `Fixture files read from DIR: ${FIXTURE_FILES.join(', ')}.`,
    )
    .option('fixtures', { type: 'string', default: 'test/fixtures/tinyvim', describe: 'folder holding the tinyvim fixture files' })
    .option('out', { type: 'string', demandOption: true, describe: 'JSON report path' })
    .option('backend', { type: 'string', choices: ['webgpu', 'wasm', 'cpu'], default: 'webgpu', describe: 'backend under test' })
    .option('timing', { type: 'string', choices: ['full', 'small', 'none'] as const, default: 'full', describe: 'full: the sizes above; small: reduced sizes (for slow backends)' })
    .option('warmup', { type: 'number', default: 2, describe: 'untimed runs per timing case' })
    .option('runs', { type: 'number', default: 5, describe: 'timed runs per timing case (median reported)' })
    .option('budget-s', { type: 'number', default: 420, describe: 'skip timing cases that would start after this many seconds' })
    .option('skip', { type: 'string', array: true, default: [] as string[], describe: 'section or check names to skip (e.g. tiny_backbone_pth)' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const skip = new Set(argv.skip);
  const report: { backend: string; started: string; sections: Section[]; ok?: boolean; total_seconds?: number } = {
    backend: argv.backend,
    started: new Date().toISOString(),
    sections: [],
  };
  const save = () => writeFileSync(argv.out, JSON.stringify(report, null, 1));
  const section = async (name: string, body: (s: Section) => Promise<void>) => {
    if (skip.has(name)) return;
    const s: Section = { name, ok: false, seconds: 0 };
    const start = performance.now();
    const before = tf.memory().numTensors;
    // On webgpu, shader/pipeline validation errors only surface as console noise; an error scope
    // catches the first one so the section fails with its message.
    const device = tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { device?: GPUDeviceLike }).device : undefined;
    device?.pushErrorScope('validation');
    try {
      await body(s);
      if (s.comparisons) s.ok = s.comparisons.every((c) => c.loose);
      else if (s.error === undefined) s.ok = true;
    } catch (e) {
      s.ok = false;
      s.error = errorText(e);
    }
    const gpuError = device ? await device.popErrorScope() : null;
    if (gpuError) {
      s.ok = false;
      s.error = `${s.error ? `${s.error}; ` : ''}GPU validation error: ${gpuError.message}`;
    }
    s.seconds = +((performance.now() - start) / 1000).toFixed(2);
    s.detail = { ...s.detail, leaked_tensors: tf.memory().numTensors - before };
    report.sections.push(s);
    save();
    const worst = s.comparisons?.reduce((m, c) => (c.loose ? m : `${m} ${c.what}(score ${c.score.toExponential(2)})`), '') ?? '';
    console.log(`${s.ok ? 'PASS' : 'FAIL'} ${name} (${s.seconds}s)${s.error ? `: ${s.error}` : ''}${worst ? ` failing:${worst}` : ''}`);
  };

  // The cpu reference of the train step runs first: tensors must not move between backends later,
  // because moving data off webgpu needs a synchronous read.
  let cpuStep: Awaited<ReturnType<typeof smallNetStep>> | null = null;
  if (!skip.has('train')) {
    await selectBackend('cpu');
    cpuStep = await smallNetStep();
  }

  await section('backend', async (s) => {
    const choice = await selectBackend(argv.backend as 'webgpu' | 'wasm' | 'cpu');
    console.log(describeBackend(choice));
    s.detail = { description: describeBackend(choice), tfjs: tf.version.tfjs, adapter: argv.backend === 'webgpu' ? await adapterInfo() : null };
  });
  if (tf.getBackend() !== argv.backend) {
    report.ok = false;
    save();
    throw new UserError(`backend '${argv.backend}' could not be selected; see ${argv.out}`);
  }

  const fx = new Fixtures(argv.fixtures);
  for (const [name, check] of FIXTURE_CHECKS) {
    await section(name, async (s) => {
      const c = new Checker();
      s.comparisons = c.comparisons;
      // A scope frees every tensor the check made (tf.tidy cannot span the awaits).
      tf.engine().startScope();
      try {
        await check(fx, c);
      } finally {
        tf.engine().endScope();
      }
    });
  }

  await section('train', async (s) => {
    const dev = await smallNetStep();
    const ref = cpuStep!;
    let maxDiff = 0;
    let worst = '';
    for (const [name, v] of ref.params) {
      const w = dev.params.get(name)!;
      for (let i = 0; i < v.length; i++) {
        const d = Math.abs(v[i] - w[i]);
        if (!(d <= maxDiff)) {
          maxDiff = d;
          worst = name;
        }
      }
    }
    const lossDiff = Math.abs(dev.loss - ref.loss);
    // AdamW's first step moves every weight by about lr (1e-2) whatever the gradient's size, so
    // parameters agree to ~1e-5 unless a gradient has the wrong sign or is missing.
    s.ok = lossDiff <= 1e-4 * Math.max(1, Math.abs(ref.loss)) && maxDiff <= 1e-4;
    s.detail = { loss_cpu: ref.loss, loss_backend: dev.loss, loss_abs_diff: lossDiff, max_param_abs_diff_after_step: maxDiff, worst_param: worst };
    if (!s.ok) s.error = `train step differs from cpu: loss diff ${lossDiff}, max param diff ${maxDiff} (${worst})`;
  });

  if (argv.timing !== 'none') {
    for (const tc of timingCases(argv.timing as 'full' | 'small')) {
      await section(`timing_${tc.name}`, async (s) => {
        if (elapsed() > argv['budget-s']) {
          s.error = `skipped: ${elapsed().toFixed(0)} s elapsed > --budget-s ${argv['budget-s']}`;
          return;
        }
        s.detail = await tc.run(argv.warmup, argv.runs);
      });
    }
  }

  report.ok = report.sections.every((s) => s.ok);
  report.total_seconds = +elapsed().toFixed(1);
  save();
  console.log(`${report.ok ? 'ALL PASSED' : 'SOME CHECKS FAILED'} in ${report.total_seconds}s; report: ${argv.out}`);
  return report.ok ? 0 : 1;
});
