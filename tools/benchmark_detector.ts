// tools/benchmark_detector: speed and memory of a whole Mask R-CNN (backbone + FPN + RPN + RoI heads)
// built from a config with random weights:
// - inference: images/s of the test path (proposals, box head on test_cfg.rpn.max_per_img RoIs,
//   NMS, mask head on the kept boxes, masks pasted at the original size), at each --infer-batch size
//   (default 1), image WxH
//   (default 1333x800, padded to a multiple of 32 as the pipeline does); warm-up runs first;
// - training: iterations/s of forward + backward + optimizer step (the config's optimizer) on a
//   batch of the config's batch size with a few random boxes and masks per image.
// Peak memory is tfjs's peakBytes of one step (tf.profile) plus the process's peak RSS.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { UserError } from '../core/errors';
import { buildModel } from '../engine/build';
import { buildOptimizer } from '../engine/optimizers';
import type { DetBatch, ImgMeta } from '../datasets/types';
import { MaskRCNN } from '../models/mask_rcnn';
import '../models/mask_rcnn_builder';
import '../backbones';
import '../datasets/register';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './train_common';
import { median, mb, checkRunCounts } from './lib/bench';


/** A batch of smooth random images with `objects` random boxes + box-shaped masks each. */
function randomDetBatch(n: number, h: number, w: number, objects: number, numClasses: number): DetBatch {
  const H = Math.ceil(h / 32) * 32;
  const W = Math.ceil(w / 32) * 32;
  const data = new Float32Array(n * H * W * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 12.9898) * 1.5;
  const metas: ImgMeta[] = [];
  const gtB: Float32Array[] = [];
  const gtL: Int32Array[] = [];
  const gtM: Uint8Array[][] = [];
  for (let b = 0; b < n; b++) {
    metas.push({
      filename: `random_${b}`,
      ori_filename: `random_${b}`,
      ori_shape: [h, w, 3],
      img_shape: [h, w, 3],
      pad_shape: [H, W, 3],
      scale_factor: [1, 1, 1, 1],
      flip: false,
      flip_direction: null,
    });
    const boxes: number[] = [];
    const labels: number[] = [];
    const masks: Uint8Array[] = [];
    for (let k = 0; k < objects; k++) {
      const bw = Math.round(w * (0.1 + 0.3 * ((k * 0.37 + b * 0.11) % 1)));
      const bh = Math.round(h * (0.1 + 0.3 * ((k * 0.53 + b * 0.29) % 1)));
      const x = Math.round((w - bw) * ((k * 0.61 + 0.13) % 1));
      const y = Math.round((h - bh) * ((k * 0.79 + 0.41) % 1));
      boxes.push(x, y, x + bw, y + bh);
      labels.push(k % numClasses);
      const m = new Uint8Array(H * W);
      for (let yy = y; yy < y + bh; yy++) m.fill(1, yy * W + x, yy * W + x + bw);
      masks.push(m);
    }
    gtB.push(Float32Array.from(boxes));
    gtL.push(Int32Array.from(labels));
    gtM.push(masks);
  }
  return { kind: 'det', data, shape: [n, H, W, 3], metas, gt_bboxes: gtB, gt_labels: gtL, gt_masks: gtM };
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark_detector')
    .usage('$0 --config <file> [--size 1333 800] [--mode both|infer|train] [--batch N] [--infer-batch 1 4 8] [--backend wasm]\n\nTimes inference and training steps of a Mask R-CNN config (random weights, random input).')
    .option('config', { type: 'string', demandOption: true, describe: 'detection config (model.type MaskRCNN)' })
    .option('size', { type: 'number', array: true, describe: 'image W H (default 1333 800; padded to a multiple of 32)' })
    .option('mode', { choices: ['both', 'infer', 'train'] as const, default: 'both' as const, describe: 'what to time' })
    .option('batch', { type: 'number', describe: 'training batch (default: data.samples_per_gpu)' })
    .option('infer-batch', { type: 'number', array: true, default: [1], describe: 'inference batch sizes to time (images/s each)' })
    .option('objects', { type: 'number', default: 5, describe: 'random GT objects per training image' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'wasm' as const, describe: 'compute backend' })
    .option('warmup', { type: 'number', default: 1, describe: 'untimed runs first' })
    .option('runs', { type: 'number', default: 3, describe: 'timed runs' })
    .option('profile', { type: 'boolean', default: true, describe: 'one extra run under tf.profile for the tfjs peak memory' })
    .option('json', { type: 'string', describe: 'write the figures here' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const size = argv.size ?? [1333, 800];
  if (size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 32)) throw new UserError(`--size: expected two integers >= 32 (W H), got ${size.join(' ')}`);
  const [w, h] = size;
  checkRunCounts(argv);
  const inferBatches = argv['infer-batch'];
  if (!inferBatches.length || !inferBatches.every((v) => Number.isInteger(v) && v >= 1)) throw new UserError(`--infer-batch: expected positive integers, got ${inferBatches.join(' ')}`);
  if (!Number.isInteger(argv.objects) || argv.objects < 0) throw new UserError(`--objects: expected a non-negative integer, got ${argv.objects}`);
  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  if (cfg.model.type !== 'MaskRCNN') throw new UserError(`${argv.config}: model.type is '${cfg.model.type}', expected 'MaskRCNN'`);
  const backend = await setupBackend(argv.backend);
  const batch = argv.batch ?? cfg.data.samples_per_gpu;
  if (!Number.isInteger(batch) || batch < 1) throw new UserError(`--batch: expected a positive integer, got ${batch}`);
  const model = buildModel(cfg);
  if (!(model instanceof MaskRCNN)) throw new UserError(`${argv.config}: the model is not a MaskRCNN`);
  const numClasses = model.roiHead.numClasses;
  const params = model.module.numParameters();
  console.log(`model ${argv.config}: ${(params / 1e6).toFixed(2)} M parameters, ${numClasses} classes, image ${w}x${h} (padded ${Math.ceil(w / 32) * 32}x${Math.ceil(h / 32) * 32}), backend ${backend}`);
  const figures: Record<string, unknown> = { config: argv.config, backend, width: w, height: h, params, warmup: argv.warmup, runs: argv.runs };
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

  if (argv.mode !== 'train') {
    // Asynchronous test path (the same on every backend): one image batch per --infer-batch size.
    const perBatch: Record<string, unknown>[] = [];
    for (const nb of inferBatches) {
      const imgs = randomDetBatch(nb, h, w, 0, numClasses);
      let dets = 0;
      const once = async () => {
        dets = (await model.predictBitmaps(imgs)).reduce((a, r) => a + r.scores.length, 0);
        sampleRss();
      };
      for (let i = 0; i < argv.warmup; i++) await once();
      const prof = argv.profile ? await tf.profile(once) : { peakBytes: NaN };
      const times: number[] = [];
      for (let i = 0; i < argv.runs; i++) {
        const t = performance.now();
        await once();
        times.push((performance.now() - t) / 1000);
      }
      const sec = median(times) / nb;
      if (dets === 0) console.log(`note: no detection passed score_thr ${model.testCfg.rcnn.score_thr} (random weights), so the mask branch was not timed; --cfg-options model.test_cfg.rcnn.score_thr=0 times it on max_per_img boxes`);
      console.log(
        `inference (batch ${nb}, ${argv.warmup} warm-up): ${sec.toFixed(3)} s/image = ${(1 / sec).toFixed(3)} images/s (median of ${argv.runs}; runs ${times.map((t) => t.toFixed(2)).join(', ')} s per batch); ${dets} detections; tfjs peak ${mb(prof.peakBytes).toFixed(0)} MiB`,
      );
      perBatch.push({ batch: nb, sec_per_image: sec, images_per_s: 1 / sec, runs: times, detections: dets, peak_tensor_mib: mb(prof.peakBytes) });
    }
    figures.infer = perBatch[0];
    figures.infer_batches = perBatch;
  }

  if (argv.mode !== 'infer') {
    model.module.train();
    const b = randomDetBatch(batch, h, w, argv.objects, numClasses);
    const optimizer = buildOptimizer(model.module, cfg.optimizer);
    const names = new Map(model.module.namedParameters().map(([n, v]) => [v.name, n]));
    const lrs = optimizer.params.map((p) => p.baseLr);
    let loss = NaN;
    // Async: on webgpu the proposals and the loss are read back asynchronously (no sync reads in Node).
    const step = async () => {
      await model.prepareTrain(b);
      const { value, grads } = tf.variableGrads(() => {
        const l = model.forwardTrain(b);
        return tf.addN(Object.entries(l).filter(([k]) => k.includes('loss')).map(([, v]) => v)) as tf.Scalar;
      });
      const byName: Record<string, tf.Tensor> = {};
      for (const [k, g] of Object.entries(grads)) byName[names.get(k) ?? k] = g;
      optimizer.step(byName, lrs);
      loss = (await value.data())[0];
      tf.dispose([value, ...Object.values(grads)]);
      sampleRss();
    };
    for (let i = 0; i < argv.warmup; i++) await step();
    const before = tf.memory().numTensors;
    const prof = argv.profile ? await tf.profile(step) : { peakBytes: NaN };
    const times: number[] = [];
    for (let i = 0; i < argv.runs; i++) {
      const t = performance.now();
      await step();
      times.push((performance.now() - t) / 1000);
    }
    const leaked = tf.memory().numTensors - before;
    const steps = argv.runs + (argv.profile ? 1 : 0);
    const sec = median(times);
    console.log(
      `training (batch ${batch}, ${argv.warmup} warm-up): ${sec.toFixed(2)} s/iter = ${(1 / sec).toFixed(4)} iters/s (median of ${argv.runs}; runs ${times.map((t) => t.toFixed(2)).join(', ')} s); tfjs peak ${mb(prof.peakBytes).toFixed(0)} MiB; last loss ${loss.toFixed(3)}; tensor count change over ${steps} steps: ${leaked}`,
    );
    figures.train = { batch, sec_per_iter: sec, iters_per_s: 1 / sec, runs: times, peak_tensor_mib: mb(prof.peakBytes), loss, tensor_growth: leaked };
    optimizer.dispose();
  }
  console.log(`peak process RSS ${mb(peakRss).toFixed(0)} MiB`);
  figures.peak_rss_mib = mb(peakRss);
  if (argv.json) writeFileSync(argv.json, `${JSON.stringify(figures, null, 2)}\n`);
  model.dispose();
});
