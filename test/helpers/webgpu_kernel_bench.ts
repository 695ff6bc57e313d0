// GPU timing of our webgpu kernels against tfjs-backend-webgpu's originals on the shapes a real
// TinyViM train step produces, and the step itself with each set of kernels. For the GPU machine:
//   node --import tsx test/helpers/webgpu_kernel_bench.ts [--model B] [--shape 800 1344] [--batch 2]
//     [--steps WARMUP BLOCKS PER_BLOCK (default 2 2 3)] [--json out.json]
// 1. One train step (train-mode forward + backward of the sum of the 4 fork_feat outputs, random
//    weights) records every call of the conv / matmul kernels (name, input shapes, attributes).
// 2. Per distinct call: tfjs's kernel and ours (where we replace it) are timed back to back, R calls
//    then a one-element read (R sized to ~0.2 s of work), after a warm-up call that compiles the
//    pipeline; ours is also compared with tfjs's numerically (max |diff| / max |tfjs|).
// 3. The step: two blocks of back-to-back steps, each block ending with a one-element read, with
//    tfjs's kernels and with ours (switched in the same process, same model and input).
// Nothing is profiled (no tf.profile) and only one element is read per timed block.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { tinyvimVariant } from '../../backbones/tinyvim';
import type { TinyViMVariant } from '../../backbones/tinyvim';
import { selectBackend } from '../../ops/backend';
import { REPLACED_WEBGPU_KERNELS, tfjsWebgpuKernel } from '../../ops/webgpu/register';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Args = Parameters<KernelFunc>[0];

const arg = (name: string, def: string[]): string[] => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const vals: string[] = [];
  for (let j = i + 1; j < process.argv.length && !process.argv[j].startsWith('--'); j++) vals.push(process.argv[j]);
  return vals;
};
// --model tiny: a three-layer conv net instead of TinyViM (a quick smoke run of this script on SwiftShader).
const variant = arg('model', ['B'])[0] as TinyViMVariant | 'tiny';
const [H, W] = arg('shape', ['800', '1344']).map(Number);
const batch = Number(arg('batch', ['2'])[0]);
const jsonOut = arg('json', [''])[0];
// Step timing: warm-up steps, then blocks of back-to-back steps (small values for a SwiftShader smoke run).
const [warmup, blocks, perBlock] = arg('steps', ['2', '2', '3']).map(Number);
const RECORDED = [
  'DepthwiseConv2dNativeBackpropFilter',
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNative',
  'DepthwiseConv2dNativeBackpropInput',
  'Conv2D',
  'Conv2DBackpropInput',
  'BatchMatMul',
];

await selectBackend('webgpu');
const adapter = await (navigator as unknown as { gpu: { requestAdapter(): Promise<{ info?: { description?: string; vendor?: string } } | null> } }).gpu.requestAdapter();
const gpuName = adapter?.info?.description || adapter?.info?.vendor || 'unknown';
console.log(`GPU: ${gpuName}; ${variant === 'tiny' ? 'tiny conv net' : `TinyViM_${variant} fork_feat`}, input ${batch}x3x${H}x${W}`);

// Dispatching wrappers: record calls; run tfjs's kernel or ours.
let useTfjs = false;
let recording = false;
const calls = new Map<string, { name: string; shapes: number[][]; dtypes: tf.DataType[]; inputNames: string[]; attrs: Record<string, unknown>; count: number }>();
const current = new Map<string, KernelFunc>();
for (const name of RECORDED) {
  const k = tf.getKernel(name, 'webgpu');
  if (!k) continue;
  current.set(name, k.kernelFunc);
  tf.unregisterKernel(name, 'webgpu');
  tf.registerKernel({
    kernelName: name,
    backendName: 'webgpu',
    kernelFunc: ((args: Args) => {
      if (recording) {
        const ins = args.inputs as unknown as Record<string, tf.TensorInfo>;
        const inputNames = Object.keys(ins);
        const shapes = inputNames.map((n) => [...ins[n].shape]);
        const key = `${name} ${JSON.stringify(shapes)} ${JSON.stringify(args.attrs)}`;
        const c = calls.get(key);
        if (c) c.count++;
        else calls.set(key, { name, shapes, dtypes: inputNames.map((n) => ins[n].dtype), inputNames, attrs: { ...(args.attrs as object) }, count: 1 });
      }
      const f = useTfjs ? (tfjsWebgpuKernel(name) ?? current.get(name)!) : current.get(name)!;
      return f(args);
    }) as KernelFunc,
  });
}

const x = tf.randomUniform([batch, H, W, 3], 0, 1) as tf.Tensor4D;
let forward: () => tf.Tensor[];
let params: tf.Variable[];
let disposeModel: () => void;
if (variant === 'tiny') {
  const w0 = tf.variable(tf.randomNormal([3, 3, 3, 8]));
  const w1 = tf.variable(tf.randomNormal([3, 3, 8, 1]));
  const w2 = tf.variable(tf.randomNormal([8, 12]));
  params = [w0, w1, w2];
  forward = () => {
    const y0 = tf.conv2d(x, w0 as tf.Tensor4D, 2, 'same');
    const y1 = tf.depthwiseConv2d(y0, w1 as tf.Tensor4D, 1, 'same');
    return [tf.matMul(tf.reshape(y1, [-1, 8]), w2 as tf.Tensor2D)];
  };
  disposeModel = () => tf.dispose(params);
} else {
  const model = tinyvimVariant(variant, { fork_feat: true }).train();
  params = model.parameters();
  forward = () => model.forwardFeatures(x);
  disposeModel = () => model.dispose();
}
const step = (): tf.Tensor => {
  const { value, grads } = tf.variableGrads(() => tf.addN(forward().map((o) => tf.sum(o))) as tf.Scalar, params);
  tf.dispose(Object.values(grads));
  return value;
};

async function timeSteps(label: string): Promise<number[]> {
  for (let i = 0; i < warmup; i++) {
    const v = step();
    await v.data();
    v.dispose();
  }
  const perStep: number[] = [];
  for (let block = 0; block < blocks; block++) {
    const t0 = performance.now();
    let v: tf.Tensor | null = null;
    for (let i = 0; i < perBlock; i++) {
      v?.dispose();
      v = step();
    }
    await v!.data();
    v!.dispose();
    perStep.push((performance.now() - t0) / perBlock);
  }
  console.log(`step with ${label} kernels: ${perStep.map((t) => t.toFixed(1)).join(', ')} ms per step (${blocks} blocks of ${perBlock} back-to-back steps after ${warmup} warm-up)`);
  return perStep;
}

recording = true;
{
  const v = step();
  await v.data();
  v.dispose();
}
recording = false;
const stepOurs = await timeSteps('our');
useTfjs = true;
const stepTfjs = await timeSteps("tfjs's");
useTfjs = false;
disposeModel();
x.dispose();

// Per-call kernel timing. Kernel outputs become engine tensors at once (disposed as tensors).
async function readOne(t: tf.Tensor): Promise<void> {
  await tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, 1)).data();
}
async function timeKernel(f: KernelFunc, args: Args): Promise<{ ms: number; out: tf.Tensor }> {
  const run = () => tf.engine().makeTensorFromTensorInfo(f(args) as tf.TensorInfo);
  const warm = run();
  await readOne(warm);
  let t0 = performance.now();
  const est = run();
  await readOne(est);
  const estMs = performance.now() - t0;
  est.dispose();
  const R = Math.max(2, Math.min(50, Math.round(200 / Math.max(estMs, 0.05))));
  t0 = performance.now();
  let last: tf.Tensor | null = null;
  for (let i = 0; i < R; i++) {
    last?.dispose();
    last = run();
  }
  await readOne(last!);
  const ms = (performance.now() - t0) / R;
  last!.dispose();
  return { ms, out: warm };
}

const rows: Record<string, unknown>[] = [];
for (const c of [...calls.values()]) {
  const inputs = Object.fromEntries(c.inputNames.map((n, i) => [n, tf.randomNormal(c.shapes[i], 0, 1, c.dtypes[i] === 'int32' ? 'int32' : 'float32')]));
  const args = { inputs, backend: tf.backend(), attrs: c.attrs } as unknown as Args;
  const tfjsF = tfjsWebgpuKernel(c.name) ?? current.get(c.name)!;
  const tfjs = await timeKernel(tfjsF, args);
  const row: Record<string, unknown> = { kernel: c.name, inputs: Object.fromEntries(c.inputNames.map((n, i) => [n, c.shapes[i]])), attrs: c.attrs, calls_per_step: c.count, tfjs_ms: +tfjs.ms.toFixed(3) };
  if (REPLACED_WEBGPU_KERNELS.includes(c.name)) {
    const ours = await timeKernel(current.get(c.name)!, args);
    const [a, b] = [tfjs.out, ours.out];
    const [d, m] = await Promise.all([tf.max(tf.abs(tf.sub(a, b))).data(), tf.max(tf.abs(a)).data()]);
    tf.dispose([a, b]);
    Object.assign(row, { ours_ms: +ours.ms.toFixed(3), speedup: +(tfjs.ms / ours.ms).toFixed(2), max_rel_diff: +(d[0] / Math.max(m[0], 1e-30)).toExponential(2) });
  } else tfjs.out.dispose();
  tf.dispose(Object.values(inputs));
  rows.push(row);
  console.log(JSON.stringify(row));
}
const total = (k: 'tfjs_ms' | 'ours_ms') => rows.reduce((s, r) => s + ((r[k] as number | undefined) ?? (r.tfjs_ms as number)) * (r.calls_per_step as number), 0);
console.log(`sum over recorded calls per step: tfjs kernels ${total('tfjs_ms').toFixed(1)} ms, with ours ${total('ours_ms').toFixed(1)} ms`);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ gpu: gpuName, model: `TinyViM_${variant}`, input: [batch, 3, H, W], step_ms: { ours: stepOurs, tfjs: stepTfjs }, kernels: rows }, null, 1) + '\n');
}
