// tools/benchmark_detector: speed of a whole Mask R-CNN (backbone + FPN + RPN + RoI heads) built from a
// config with random weights:
// - inference: images/s of the test path (proposals, box head, NMS, mask head on the kept boxes, masks
//   pasted at the original size), batch 1, image H x W (default 800 x 1333, padded to a multiple of 32);
// - training: ms per step of prepareTrain + forward + backward + the config's optimizer on a batch of
//   the config's batch size with a few random boxes and masks per image.
// Timing is the shared harness of tools/lib/bench.ts (no profiling, one one-element read per block);
// per-kernel GPU times come from `tools/benchmark profile`, run as its own process.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import '../backbones';
import { BACKEND_CHOICES, failLine, runTool, setupBackend } from './lib/cli';
import { TIMING_OPTIONS, checkRunCounts, mb, shapeArg, timeSteps, timingLine } from './lib/bench';
import { detectorWorkload, type StepMode } from './lib/workloads';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark detector')
    .usage('$0 --config <file> [--shape 800 1333] [--mode both|infer|train] [--batch N] [--backend wasm]\n\nTimes inference and training steps of a Mask R-CNN config (random weights, random input).')
    .option('config', { type: 'string', demandOption: true, describe: 'detection config (model.type MaskRCNN)' })
    .option('shape', { type: 'number', array: true, describe: 'image H W (default 800 1333; padded to a multiple of 32)' })
    .option('mode', { choices: ['both', 'infer', 'train'] as const, default: 'both' as const, describe: 'what to time' })
    .option('batch', { type: 'number', describe: 'batch (default: data.samples_per_gpu for training, 1 for inference)' })
    .option('objects', { type: 'number', default: 5, describe: 'random GT objects per training image' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'wasm' as const, describe: 'compute backend' })
    .options(TIMING_OPTIONS)
    .option('json', { type: 'string', describe: 'write the figures here' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  checkRunCounts(argv);
  const shape = shapeArg(argv.shape, [800, 1333], 32);
  if (!Number.isInteger(argv.objects) || argv.objects < 0) throw new UserError(`--objects: expected a non-negative integer, got ${argv.objects}`);
  const backend = await setupBackend(argv.backend);
  const figures: Record<string, unknown> = { config: argv.config, backend, shape_hw: shape };
  let peakRss = process.memoryUsage().rss;
  const modes: StepMode[] = argv.mode === 'both' ? ['infer', 'train'] : [argv.mode];
  for (const mode of modes) {
    const w = await detectorWorkload({ config: argv.config, mode, shape, batch: argv.batch, objects: argv.objects, cfgOptions: argv['cfg-options'] });
    const before = tf.memory().numTensors;
    const t = await timeSteps(w, argv);
    const growth = tf.memory().numTensors - before;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    console.log(`${timingLine(w.label, backend, t)}; ${(w.params / 1e6).toFixed(2)} M parameters; tensor count change ${growth}; live tensors ${mb(tf.memory().numBytes).toFixed(0)} MiB`);
    figures[mode] = { label: w.label, params: w.params, input_nhwc: w.inputShape, ...t, tensor_growth: growth };
    w.dispose();
  }
  console.log(`peak process RSS ${mb(peakRss).toFixed(0)} MiB`);
  figures.peak_rss_mib = +mb(peakRss).toFixed(0);
  if (argv.json) writeFileSync(argv.json, `${JSON.stringify(figures, null, 2)}\n`);
});
