// tools/benchmark_segmentor: speed and memory of a whole Semantic FPN segmentor (backbone + FPN +
// head) built from a config with random weights:
// - inference: images/s of the whole-image test path at HxW, batch 1 (as mmseg's tools/benchmark.py:
//   the full model incl. the logits resize, softmax and argmax read back to the host; warm-up first);
// - training: iterations/s of forward + backward + AdamW step on a random batch of the config's
//   batch size at HxW with random labels.
// Peak memory is tfjs's peakBytes of one step (tf.profile) plus the process's peak RSS.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { UserError } from '../core/errors';
import { buildModel } from '../engine/build';
import { buildOptimizer } from '../engine/optimizers';
import type { EncoderDecoder } from '../models/encoder_decoder';
import type { SegBatch } from '../datasets/types';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './train_common';
import { median, mb, checkRunCounts } from './lib/bench';


runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark_segmentor')
    .usage('$0 --config <file> [--shape 512 512] [--mode both|infer|train] [--batch N] [--backend wasm]\n\nTimes inference and training steps of a segmentor config (random weights, random input).')
    .option('config', { type: 'string', demandOption: true, describe: 'segmentation config (model.type EncoderDecoder)' })
    .option('shape', { type: 'number', array: true, describe: 'input H W (default 512 512)' })
    .option('mode', { choices: ['both', 'infer', 'train'] as const, default: 'both' as const, describe: 'what to time' })
    .option('batch', { type: 'number', describe: 'training batch (default: data.samples_per_gpu)' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'wasm' as const, describe: 'compute backend' })
    .option('warmup', { type: 'number', default: 1, describe: 'untimed runs first' })
    .option('runs', { type: 'number', default: 3, describe: 'timed runs' })
    .option('json', { type: 'string', describe: 'write the figures here' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const shape = argv.shape ?? [512, 512];
  if (shape.length !== 2 || !shape.every((v) => Number.isInteger(v) && v >= 32)) throw new UserError(`--shape: expected two integers >= 32 (H W), got ${shape.join(' ')}`);
  const [h, w] = shape;
  checkRunCounts(argv);
  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  if (cfg.model.type !== 'EncoderDecoder') throw new UserError(`${argv.config}: model.type is '${cfg.model.type}', expected 'EncoderDecoder'`);
  const backend = await setupBackend(argv.backend);
  const batch = argv.batch ?? cfg.data.samples_per_gpu;
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch: expected a positive integer, got ${batch}`);
  const model = buildModel(cfg) as unknown as EncoderDecoder;
  const numClasses = model.numClasses;
  const params = model.module.numParameters();
  console.log(`model ${argv.config}: ${(params / 1e6).toFixed(2)} M parameters, ${numClasses} classes, input ${h}x${w}, backend ${backend}`);
  const figures: Record<string, unknown> = { config: argv.config, backend, height: h, width: w, params };
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

  if (argv.mode !== 'train') {
    model.module.eval();
    const img = tf.randomNormal([1, h, w, 3]) as tf.Tensor4D;
    const meta = { ori_shape: [h, w, 3] as [number, number, number], img_shape: [h, w, 3] as [number, number, number] };
    // Async reads: the webgpu backend cannot read GPU memory synchronously under Node.
    const once = async () => {
      const pred = tf.tidy(() => tf.argMax(model.inferenceScores(img, meta), -1));
      await pred.data();
      pred.dispose();
      sampleRss();
    };
    for (let i = 0; i < argv.warmup; i++) await once();
    const prof = await tf.profile(once);
    const times: number[] = [];
    for (let i = 0; i < argv.runs; i++) {
      const t = performance.now();
      await once();
      times.push((performance.now() - t) / 1000);
    }
    const sec = median(times);
    console.log(`inference (whole, batch 1): ${sec.toFixed(3)} s/image = ${(1 / sec).toFixed(3)} images/s (median of ${argv.runs}; runs ${times.map((t) => t.toFixed(3)).join(', ')} s); tfjs peak ${mb(prof.peakBytes).toFixed(0)} MiB`);
    figures.infer = { sec_per_image: sec, images_per_s: 1 / sec, runs: times, peak_tensor_mib: mb(prof.peakBytes) };
    img.dispose();
  }

  if (argv.mode !== 'infer') {
    model.module.train();
    const data = new Float32Array(batch * h * w * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 1.5;
    const gt = new Uint8Array(batch * h * w);
    for (let i = 0; i < gt.length; i++) gt[i] = ((i * 2654435761) >>> 24) % numClasses;
    const metas = Array.from({ length: batch }, (_, i) => ({
      filename: `random_${i}`,
      ori_filename: `random_${i}`,
      ori_shape: [h, w, 3] as [number, number, number],
      img_shape: [h, w, 3] as [number, number, number],
      pad_shape: [h, w, 3] as [number, number, number],
      scale_factor: [1, 1, 1, 1] as [number, number, number, number],
      flip: false,
      flip_direction: null,
    }));
    const sb: SegBatch = { kind: 'seg', data, shape: [batch, h, w, 3], metas, gt_semantic_seg: gt };
    const optimizer = buildOptimizer(model.module, cfg.optimizer);
    const names = new Map(model.module.namedParameters().map(([n, v]) => [v.name, n]));
    const lrs = optimizer.params.map((p) => p.baseLr);
    let loss = NaN;
    const step = async () => {
      const { value, grads } = tf.variableGrads(() => model.forwardTrain(sb)['decode.loss_ce']);
      const byName: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) byName[names.get(k) ?? k] = g;
      optimizer.step(byName, lrs);
      loss = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads)]);
      sampleRss();
    };
    for (let i = 0; i < argv.warmup; i++) await step();
    const prof = await tf.profile(step);
    const times: number[] = [];
    for (let i = 0; i < argv.runs; i++) {
      const t = performance.now();
      await step();
      times.push((performance.now() - t) / 1000);
    }
    const sec = median(times);
    console.log(`training (batch ${batch}): ${sec.toFixed(2)} s/iter = ${(1 / sec).toFixed(4)} iters/s (median of ${argv.runs}; runs ${times.map((t) => t.toFixed(2)).join(', ')} s); tfjs peak ${mb(prof.peakBytes).toFixed(0)} MiB; last loss ${loss.toFixed(3)}`);
    figures.train = { batch, sec_per_iter: sec, iters_per_s: 1 / sec, runs: times, peak_tensor_mib: mb(prof.peakBytes), loss };
    optimizer.dispose();
  }
  console.log(`peak process RSS ${mb(peakRss).toFixed(0)} MiB`);
  figures.peak_rss_mib = mb(peakRss);
  if (argv.json) writeFileSync(argv.json, `${JSON.stringify(figures, null, 2)}\n`);
  model.dispose?.();
});
