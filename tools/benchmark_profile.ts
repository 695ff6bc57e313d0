// tools/benchmark profile: where the time of one step goes, per kernel.
//   tools/benchmark profile --config <cfg> --mode train|infer --backend webgpu [--shape H W] [--batch N]
//                           [--top 20] [--json out.json]
//   tools/benchmark profile --model TinyViM_B [--head backbone|cls] --mode train --shape 800 1344 --batch 2
// In this order, in this one process: warm-up steps; `--runs` unprofiled steps back to back with one
// one-element read at the end (wall ms per step and host enqueue ms); one unprofiled step with counters
// (kernel invocations, host uploads, webgpu dispatches / buffer creations / queue writes); LAST, one step
// under tf.profile (GPU time per kernel from timestamp queries on webgpu, kernel wall time on cpu/wasm).
// Report: top-N tables by kernel+input shapes, by kernel, by webgpu program; JSON with everything.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { submitPendingWork } from '../ops/backend';
import '../backbones';
import { BACKEND_CHOICES, failLine, runTool, setupBackend } from './lib/cli';
import { MODEL_CHOICES } from './get_flops_common';
import { checkRunCounts, mb, readOneElement, shapeArg, timeSteps } from './lib/bench';
import { type BuiltWorkload, type StepMode, backboneWorkload, configModelType, detectorWorkload, segmentorWorkload } from './lib/workloads';
import { byKernel, byKernelAndShape, byProgram, countStep, formatTable, kernelRecords } from './lib/profile';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark profile')
    .usage('$0 (--config <file> | --model TinyViM_S|B|L) --mode train|infer [--backend webgpu] [--shape H W] [--batch N] [--top 20] [--json out.json]\n\nPer-kernel time of one step (GPU timestamps on webgpu), host vs GPU time, dispatches and uploads per step.')
    .option('config', { type: 'string', describe: 'a MaskRCNN or EncoderDecoder config, or one whose model.backbone is a TinyViM' })
    .option('model', { type: 'string', choices: MODEL_CHOICES, describe: 'a bare TinyViM instead of a config' })
    .option('head', { type: 'string', choices: ['cls', 'backbone'] as const, default: 'backbone', describe: 'with --model: fork_feat backbone or classifier' })
    .option('mode', { choices: ['train', 'infer'] as const, default: 'train' as const, describe: 'train step or inference' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'webgpu' as const, describe: 'compute backend' })
    .option('shape', { type: 'number', array: true, describe: 'input H W (default: 800 1333 detector, 512 512 segmentor, 224 224 TinyViM)' })
    .option('batch', { type: 'number', describe: 'images per step (default: data.samples_per_gpu; 1 for a bare TinyViM)' })
    .option('objects', { type: 'number', default: 5, describe: 'detector: random GT objects per training image' })
    .option('fused', { type: 'boolean', default: false, describe: 'bare TinyViM inference: re-parameterise first' })
    .option('warmup', { type: 'number', default: 2, describe: 'untimed steps first' })
    .option('runs', { type: 'number', default: 2, describe: 'unprofiled steps timed back to back (wall vs GPU time)' })
    .option('top', { type: 'number', default: 20, describe: 'rows per table' })
    .option('profile', { type: 'boolean', default: true, describe: 'run the profiled step (--no-profile: timing and counters only)' })
    .option('json', { type: 'string', describe: 'write everything here (all rows, not only the top)' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .conflicts('config', 'model')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  checkRunCounts(argv);
  if (!Number.isInteger(argv.top) || argv.top < 1) throw new UserError('--top: expected a positive integer');
  if (!argv.config && !argv.model) throw new UserError('give --config <file> or --model TinyViM_S|TinyViM_B|TinyViM_L');
  const backend = await setupBackend(argv.backend);
  const mode = argv.mode as StepMode;
  const type = argv.config ? await configModelType(argv.config) : 'TinyViM';
  let w: BuiltWorkload;
  if (type === 'MaskRCNN') {
    w = await detectorWorkload({ config: argv.config!, mode, shape: shapeArg(argv.shape, [800, 1333], 32), batch: argv.batch, objects: argv.objects, cfgOptions: argv['cfg-options'] });
  } else if (type === 'EncoderDecoder') {
    w = await segmentorWorkload({ config: argv.config!, mode, shape: shapeArg(argv.shape, [512, 512], 32), batch: argv.batch, cfgOptions: argv['cfg-options'] });
  } else {
    w = await backboneWorkload({ model: argv.model, config: argv.config, cls: argv.head === 'cls', mode, shape: shapeArg(argv.shape, [224, 224]), batch: argv.batch ?? 1, fused: argv.fused });
  }
  console.log(`profiling ${w.label}, ${backend}`);

  // 1. Unprofiled timing (after warm-up), before anything is profiled.
  const timing = await timeSteps(w, { warmup: argv.warmup, runs: argv.runs, repeats: 1 });
  // 2. One unprofiled step with counters.
  let countedHostMs = 0;
  submitPendingWork();
  const counts = await countStep(async () => {
    const h0 = performance.now();
    const out = await w.step();
    countedHostMs = performance.now() - h0;
    if (out) {
      await readOneElement(out);
      out.dispose();
    }
  });
  // 3. Last: the profiled step (skipped with --no-profile: counters only).
  const t0 = performance.now();
  const info = argv.profile
    ? await tf.profile(async () => {
        const out = await w.step();
        if (out) {
          await readOneElement(out);
          out.dispose();
        }
      })
    : null;
  const profiledWallMs = performance.now() - t0;
  const records = info ? kernelRecords(info) : [];
  const kernelMs = records.reduce((a, r) => a + r.ms, 0);
  const shapes = byKernelAndShape(records);
  const kernels = byKernel(records);
  const programs = byProgram(records);
  const timeKind = backend === 'webgpu' ? 'GPU time (timestamp queries)' : 'kernel wall time';

  const summary = {
    label: w.label,
    backend,
    mode,
    params: w.params,
    input_nhwc: w.inputShape,
    images_per_step: w.images,
    wall_ms_per_step: timing.median_ms,
    host_enqueue_ms_per_step: timing.host_ms_median,
    counted_step_host_ms: +countedHostMs.toFixed(2),
    kernel_ms_sum: info ? +kernelMs.toFixed(2) : null,
    kernel_time_kind: timeKind,
    kernel_calls_profiled: info ? records.length : null,
    ...counts,
    peak_tensor_mib: info ? +mb(info.peakBytes).toFixed(1) : null,
    profiled_step_wall_ms: info ? +profiledWallMs.toFixed(1) : null,
  };
  console.log(
    `per step: wall ${summary.wall_ms_per_step} ms (unprofiled, ${argv.runs} back-to-back steps after ${argv.warmup} warm-up), host enqueue ${summary.host_enqueue_ms_per_step} ms; ` +
      (info ? `summed ${timeKind} ${summary.kernel_ms_sum} ms over ${records.length} kernel calls; ` : '') +
      `engine kernels ${counts.kernels}, host uploads ${counts.uploads} (${(counts.upload_bytes / 1024).toFixed(1)} KiB)` +
      (counts.dispatches !== null ? `, GPU dispatches ${counts.dispatches}, bind groups created ${counts.bind_groups_created}, buffers created ${counts.buffers_created}, queue writes ${counts.queue_writes}` : '') +
      (info ? `; tfjs peak ${summary.peak_tensor_mib} MiB` : ''),
  );
  if (info) {
    console.log(formatTable(shapes, argv.top, `\nby kernel and input shapes, ${timeKind}`));
    console.log(formatTable(kernels, argv.top, `\nby kernel, ${timeKind}`));
    if (programs.length) console.log(formatTable(programs, argv.top, '\nby webgpu program, GPU time'));
  }
  if (argv.json) {
    const round = (rows: typeof shapes) => rows.map((r) => ({ ...r, total_ms: +r.total_ms.toFixed(4), mean_ms: +r.mean_ms.toFixed(4), pct: +r.pct.toFixed(2) }));
    writeFileSync(argv.json, `${JSON.stringify({ summary, timing, by_kernel_shape: round(shapes), by_kernel: round(kernels), by_program: round(programs) }, null, 1)}\n`);
  }
  w.dispose();
});
