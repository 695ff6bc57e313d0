// tools/benchmark_backbone: images per second of a TinyViM forward (random weights, eval mode) at a
// given resolution, batch size and backend; warm-up runs, then timed runs; reports median and spread.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { TinyViM } from '../backbones';
import { BACKEND_CHOICES, failLine, runTool, setupBackend } from './train_common';
import { MODEL_CHOICES, parseShape, tinyvimConfigFromArgs } from './get_flops_common';
import { median } from './lib/bench';


runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/benchmark_backbone')
    .usage(
      '$0 --model TinyViM_S|TinyViM_B|TinyViM_L [--mode backbone|cls] [--shape H W] [--batch N] [--backend wasm] [--fused]\n\n' +
        'Times a forward pass (outputs read back to host memory) of a randomly initialised model in eval mode.',
    )
    .option('model', { type: 'string', choices: MODEL_CHOICES, describe: 'official variant' })
    .option('mode', { type: 'string', choices: ['cls', 'backbone'] as const, default: 'backbone', describe: 'fork_feat backbone or classifier' })
    .option('config', { type: 'string', describe: 'config file whose model.backbone is a TinyViM' })
    .option('shape', { type: 'number', array: true, describe: 'input H W (default 224 224)' })
    .option('batch', { type: 'number', default: 1, describe: 'images per forward' })
    .option('backend', { type: 'string', choices: BACKEND_CHOICES, default: 'wasm', describe: 'tfjs backend' })
    .option('fused', { type: 'boolean', default: false, describe: 're-parameterise (fuse) before timing' })
    .option('warmup', { type: 'number', default: 2, describe: 'untimed runs first' })
    .option('runs', { type: 'number', default: 5, describe: 'timed runs' })
    .option('json', { type: 'string', describe: 'write the figures here' })
    .conflicts('config', 'model')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const backend = await setupBackend(argv.backend);
  const { cfg, label } = await tinyvimConfigFromArgs(argv);
  const [h, w] = parseShape(argv.shape, [224, 224]);
  const model = new TinyViM(cfg).eval();
  model.checkInputSize(h, w);
  if (argv.fused) model.fuse();
  const x = tf.randomUniform([argv.batch, h, w, 3], 0, 1) as tf.Tensor4D;
  // Process CPU time per run as well: on a shared machine wall time includes waiting for a core.
  const cpuTimes: number[] = [];
  const once = async (): Promise<number> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = model.forward(x);
    const outs = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
    await Promise.all(outs.map((o) => o.data()));
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1000);
    tf.dispose(outs);
    return ms;
  };
  for (let i = 0; i < argv.warmup; i++) await once();
  cpuTimes.length = 0;
  const times: number[] = [];
  for (let i = 0; i < argv.runs; i++) times.push(await once());
  const med = median(times);
  const ips = (t: number) => (argv.batch * 1000) / t;
  const res = {
    model: label,
    backend,
    fused: argv.fused,
    shape: [argv.batch, 3, h, w],
    runs_ms: times.map((t) => +t.toFixed(1)),
    median_ms: +med.toFixed(1),
    images_per_s: +ips(med).toFixed(2),
    images_per_s_range: [+ips(Math.max(...times)).toFixed(2), +ips(Math.min(...times)).toFixed(2)],
    spread_pct: +((100 * (Math.max(...times) - Math.min(...times))) / med).toFixed(1),
    median_cpu_ms: +median(cpuTimes).toFixed(1),
    images_per_cpu_s: +ips(median(cpuTimes)).toFixed(2),
  };
  console.log(
    `${label}${argv.fused ? ', fused' : ''}, ${backend}, input ${argv.batch}x3x${h}x${w}: ${res.images_per_s} img/s ` +
      `(median ${res.median_ms} ms per batch over ${argv.runs} runs after ${argv.warmup} warm-up; range ${res.images_per_s_range[0]}-${res.images_per_s_range[1]} img/s, spread ${res.spread_pct}%); ` +
      `process CPU time ${res.median_cpu_ms} ms per batch = ${res.images_per_cpu_s} img per CPU-second`,
  );
  if (argv.json) writeFileSync(argv.json, JSON.stringify(res, null, 1) + '\n');
  tf.dispose(x);
  model.dispose();
});
