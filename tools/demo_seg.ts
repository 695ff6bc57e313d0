// tools/demo_seg (npm run demo:seg): the second example. Generates the shapes dataset in ADE20K layout
// if it is absent, trains Semantic FPN with a TinyViM-S backbone from scratch
// (configs/demo/fpn_tinyvim_s_shapes.ts), evaluates mIoU on the val split and writes colour-coded
// predictions blended with the images as PNG.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { UserError } from '../core/errors';
import { buildDataset, createRunner } from '../engine/build';
import { buildEvaluator, evalLoader, inferenceOnDataset } from '../engine/evaluate';
import { testLoaderOptions } from '../engine/test_loader';
import { FileLogSink } from '../engine/log_writer';
import { writeShapesAde } from '../datasets/synthetic/write';
import type { SegResult } from '../structures/results';
import { defaultPalette, writeSegVisualization } from '../visualization/seg_overlay';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/demo_seg')
    .usage('$0 [options]\n\nGenerates shapes-ade (if absent), trains the demo Semantic FPN, evaluates mIoU and draws predictions.')
    .option('config', { type: 'string', default: 'configs/demo/fpn_tinyvim_s_shapes.ts', describe: 'demo config' })
    .option('work-dir', { type: 'string', default: 'work_dirs/demo_sem_fpn', describe: 'logs, checkpoint, metrics and example PNGs' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('examples', { type: 'number', default: 6, describe: 'val images drawn as PNG' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const t0 = performance.now();
  const secs = () => ((performance.now() - t0) / 1000).toFixed(0);
  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  // Generate the dataset where the config reads it, unless it is there already.
  const dataRoot = (cfg.data.val as { data_root?: string } | undefined)?.data_root;
  if (!dataRoot) throw new UserError(`${argv.config}: data.val.data_root is required by the demo`);
  if (!existsSync(join(dataRoot, 'annotations', 'training'))) {
    // The same scenes as the detection demo's generator, with 0 = "other" in the label maps.
    await writeShapesAde(dataRoot, { train: 300, val: 60, size: 160, seed: 0 });
    console.log(`[${secs()} s] generated ${dataRoot}`);
  }
  if (cfg.model.type !== 'EncoderDecoder') throw new UserError(`${argv.config}: model.type is '${cfg.model.type}', expected 'EncoderDecoder'`);
  const backend = await setupBackend(argv.backend);
  const workDir = argv['work-dir'];
  mkdirSync(workDir, { recursive: true });
  // Evaluated once, after training (below).
  const runner = createRunner({ ...cfg, evaluation: undefined }, { workDir, seed: cfg.seed ?? 0, log: new FileLogSink(workDir), backend });
  const tTrain = performance.now();
  const res = await runner.run();
  const trainSec = (performance.now() - tTrain) / 1000;
  console.log(`[${secs()} s] trained ${res.iter} iterations in ${trainSec.toFixed(0)} s (batch ${cfg.data.samples_per_gpu}, ${backend})`);

  const val = buildDataset(cfg, 'val');
  if (!val) throw new UserError(`${argv.config}: data.val is required`);
  // The first `examples` predictions are kept for drawing; the evaluator sees them all as they arrive.
  const examples: SegResult[] = [];
  const keep = (_batch: unknown, outputs: readonly unknown[]) => {
    for (const r of outputs) if (examples.length < argv.examples) examples.push(r as SegResult);
  };
  const evaluator = buildEvaluator(cfg, val, ['mIoU']);
  const report = await inferenceOnDataset(runner.opts.model, evalLoader(val, testLoaderOptions(cfg, 'val')), evaluator, { onBatch: keep });
  const { metrics } = report;
  console.log(report.text);
  writeFileSync(join(workDir, 'metrics.json'), `${JSON.stringify({ ...metrics, train_seconds: trainSec, iters: res.iter, backend }, null, 2)}\n`);
  const visDir = join(workDir, 'vis');
  const classes = (val.raw as { classes?: readonly string[] } | undefined)?.classes ?? [];
  const palette = defaultPalette(Math.max(classes.length, 1));
  for (const r of examples) await writeSegVisualization(visDir, r, palette);
  console.log(`[${secs()} s] example predictions in ${visDir}`);
  const ok = metrics.mIoU >= 0.6;
  console.log(`demo ${ok ? 'reached' : 'did NOT reach'} the target (mIoU >= 0.6): mIoU ${metrics.mIoU.toFixed(4)}, aAcc ${metrics.aAcc.toFixed(4)}; total ${secs()} s`);
});
