// tools/benchmark_backbone: speed of a TinyViM (random weights) at a given resolution, batch and
// backend: an eval-mode forward (fork_feat backbone or classifier, optionally fused) or, with --mode
// train, a train step (train-mode forward + backward of the sum of all outputs). Timing is the shared
// harness of tools/lib/bench.ts: warm-up steps, then blocks of back-to-back steps each ending with a
// one-element read; nothing else is read back.
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BACKEND_CHOICES, failLine, runTool, setupBackend } from './lib/cli';
import { MODEL_CHOICES } from './get_flops_common';
import { TIMING_OPTIONS, checkRunCounts, shapeArg, timeSteps, timingLine } from './lib/bench';
import { backboneWorkload } from './lib/workloads';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark backbone')
    .usage(
      '$0 --model TinyViM_S|TinyViM_B|TinyViM_L [--head backbone|cls] [--mode infer|train] [--shape H W] [--batch N] [--backend wasm] [--fused]\n\n' +
        'Times forward passes (eval mode) or train steps (forward + backward) of a randomly initialised TinyViM.',
    )
    .option('model', { type: 'string', choices: MODEL_CHOICES, describe: 'official variant' })
    .option('config', { type: 'string', describe: 'config file whose model.backbone is a TinyViM' })
    .option('head', { type: 'string', choices: ['cls', 'backbone'] as const, default: 'backbone', describe: 'fork_feat backbone (4 outputs) or classifier' })
    .option('mode', { type: 'string', choices: ['infer', 'train'] as const, default: 'infer', describe: 'eval forward, or train step (fwd + bwd)' })
    .option('shape', { type: 'number', array: true, describe: 'input H W (default 224 224)' })
    .option('batch', { type: 'number', default: 1, describe: 'images per step' })
    .option('backend', { type: 'string', choices: BACKEND_CHOICES, default: 'wasm', describe: 'tfjs backend' })
    .option('fused', { type: 'boolean', default: false, describe: 're-parameterise (fuse) before timing (infer only)' })
    .options(TIMING_OPTIONS)
    .option('json', { type: 'string', describe: 'write the figures here' })
    .conflicts('config', 'model')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  checkRunCounts(argv);
  const shape = shapeArg(argv.shape, [224, 224]);
  const backend = await setupBackend(argv.backend);
  const w = await backboneWorkload({
    model: argv.model,
    config: argv.config,
    cls: argv.head === 'cls',
    mode: argv.mode as 'infer' | 'train',
    shape,
    batch: argv.batch,
    fused: argv.fused,
  });
  const t = await timeSteps(w, argv);
  console.log(timingLine(w.label, backend, t));
  if (argv.json) writeFileSync(argv.json, JSON.stringify({ label: w.label, backend, params: w.params, input_nhwc: w.inputShape, ...t }, null, 1) + '\n');
  w.dispose();
});
