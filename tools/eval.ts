// tools/eval: evaluates a checkpoint on the config's test (else val) dataset.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { ConfigError } from '../core/errors';
import { buildDataset, buildModel } from '../engine/build';
import { loadStateDict, readCheckpoint } from '../engine/checkpoint';
import { evaluateModel } from '../engine/evaluate';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './train_common';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/eval')
    .usage('$0 --config <file> --checkpoint <file> [options]\n\nEvaluates a checkpoint on data.test (or data.val) with the metrics of cfg.evaluation.metric.')
    .option('config', { type: 'string', demandOption: true, describe: 'config file' })
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint (.safetensors) to evaluate; loaded strictly' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('out', { type: 'string', describe: 'write {metrics, results} as JSON to this file' })
    .option('metric', { type: 'string', array: true, describe: 'metrics to compute (default: cfg.evaluation.metric)' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();

  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  const split = cfg.data.test ? 'test' : cfg.data.val ? 'val' : null;
  if (!split) throw new ConfigError(`${argv.config}: data.test (or data.val) is required to evaluate`, 'data.test', argv.config);
  const ckpt = readCheckpoint(argv.checkpoint);
  await setupBackend(argv.backend);
  const model = buildModel(cfg);
  loadStateDict(model.module, ckpt.stateDict, { strict: true, source: argv.checkpoint });
  const dataset = buildDataset(cfg, split)!;
  const cfgMetric = cfg.evaluation?.metric;
  const metric = argv.metric ?? (cfgMetric === undefined ? [] : Array.isArray(cfgMetric) ? cfgMetric : [cfgMetric]);
  const started = performance.now();
  const { metrics, results } = await evaluateModel(model, dataset, {
    metric,
    batchSize: 1,
    workers: cfg.data.workers_per_gpu,
    onProgress: (d, n) => {
      if (process.stdout.isTTY) process.stdout.write(`\r${d}/${n}`);
    },
  });
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
  console.log(`evaluated ${results.length} samples of data.${split} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const [k, v] of Object.entries(metrics)) console.log(`${k}: ${v.toFixed(4)}`);
  if (argv.out) {
    mkdirSync(dirname(argv.out), { recursive: true });
    writeFileSync(argv.out, `${JSON.stringify({ config: argv.config, checkpoint: argv.checkpoint, split, metrics, results }, null, 1)}\n`);
    console.log(`wrote ${argv.out}`);
  }
});
