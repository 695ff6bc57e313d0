// tools/eval: evaluates a checkpoint on the config's test (else val) dataset with the dataset's
// evaluator (EVALUATORS): COCO bbox/segm summaries (and mmdet's classwise tables) on a CocoDataset,
// mmseg's mIoU table on a segmentation dataset, whatever a registered evaluator reports otherwise.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { ConfigError, UserError } from '../core/errors';
import type { BuiltDataset, DataLoader, Evaluator, TrainableModel } from '../core/registry';
import type { ImgMeta } from '../datasets/types';
import { buildDataset, buildModel } from '../engine/build';
import { loadStateDict, readCheckpoint } from '../checkpoint';
import { buildEvaluator, configMetric, evalLoader, inferenceOnDataset } from '../engine/evaluate';
import { testLoaderOptions } from '../engine/test_loader';
import { endJob, LAUNCHERS, startJob } from '../engine/dist/launch';
import { writeResultImage } from '../visualization/draw_result';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './lib/cli';

function printMetrics(metrics: Record<string, number>, keys = Object.keys(metrics)): void {
  for (const k of keys) console.log(`${k}: ${metrics[k].toFixed(4)}`);
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/eval')
    .usage(
      '$0 --config <file> --checkpoint <file> [options]\n\nEvaluates a checkpoint on data.test (or data.val) with the metrics of cfg.evaluation.metric:\n' +
        'COCO bbox/segm (pycocotools summaries) for detectors, aAcc/mIoU/mAcc with the per-class table for segmentors.',
    )
    .option('config', { type: 'string', demandOption: true, describe: 'config file' })
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint to evaluate (ours, a safetensors state_dict or a torch .pth; read by checkpoint/readCheckpoint); loaded strictly' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('out', {
      type: 'string',
      describe:
        'detectors: COCO results JSON as mmdet writes them, <stem>.bbox.json and <stem>.segm.json (stem = the path without .json; tools/coco_eval reads them); ' +
        'segmentors: {metrics, images} JSON; other models: {metrics, results} JSON',
    })
    .option('show-dir', { type: 'string', describe: 'draw predictions on the original images as <dir>/<image name>.png (boxes, masks, labels, scores; or the colour-coded label map blended with the image)' })
    .option('show-score-thr', { type: 'number', default: 0.3, describe: 'detections drawn by --show-dir: score >= this' })
    .option('classwise', { type: 'boolean', default: false, describe: "detectors: also print mmdetection's per-category AP table per iou type" })
    .option('metric', { type: 'string', array: true, describe: 'metrics to compute (default: cfg.evaluation.metric)' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .option('launcher', { choices: LAUNCHERS, default: 'none' as const, describe: 'mpi: one rank of `mpirun -np N tools/eval ...`; each rank infers its shard, rank 0 scores and prints' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();

  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  const split = cfg.data.test ? 'test' : cfg.data.val ? 'val' : null;
  if (!split) throw new ConfigError(`${argv.config}: data.test (or data.val) is required to evaluate`, 'data.test', argv.config);
  if (!(argv['show-score-thr'] >= 0 && argv['show-score-thr'] <= 1)) throw new UserError(`--show-score-thr: expected a number in [0, 1], got ${argv['show-score-thr']}`);
  if (argv.launcher === 'mpi' && argv['show-dir']) throw new UserError('--show-dir is not supported with --launcher mpi; draw with a single-process tools/eval');
  const dist = await startJob(argv.launcher, argv.backend, () => 'evaluation stopped');
  const ckpt = readCheckpoint(argv.checkpoint);
  await setupBackend(argv.backend);
  const model = buildModel(cfg) as TrainableModel<{ metas?: ImgMeta[] }, unknown>;
  loadStateDict(model.module, ckpt.stateDict, { strict: true, source: argv.checkpoint });
  const dataset = buildDataset(cfg, split)! as BuiltDataset<{ metas?: ImgMeta[] }>;
  const metric = argv.metric ?? configMetric(cfg);
  const evaluator = buildEvaluator(cfg, dataset, metric, argv.classwise ? { classwise: true } : {});
  if (argv.out && !evaluator.writeResults) throw new UserError(`--out: the evaluator of ${argv.config} writes no results file`);
  const showDir = argv['show-dir'];
  const classes = ((dataset.raw as { classes?: readonly string[] } | undefined)?.classes ?? []) as readonly string[];
  let drawn = 0;

  const started = performance.now();
  const loader = evalLoader(dataset, testLoaderOptions(cfg, split)) as DataLoader<{ metas?: ImgMeta[] }>;
  const report = dist
    ? await dist.evaluateReport(model, dataset, evaluator as Evaluator<{ metas?: ImgMeta[] }, unknown>, { workers: cfg.data.workers_per_gpu })
    : await inferenceOnDataset(model, loader, evaluator as Evaluator<{ metas?: ImgMeta[] }, unknown>, {
    onProgress: (d, n) => {
      if (process.stdout.isTTY) process.stdout.write(`\r${d}/${n}`);
    },
    onBatch: showDir
      ? async (batch, outputs) => {
          for (let i = 0; i < outputs.length; i++) {
            const meta = batch.metas?.[i];
            if (!meta) throw new UserError('--show-dir: the dataset\'s batches carry no image metas; nothing to draw');
            await writeResultImage(showDir, outputs[i], meta, { classes, scoreThr: argv['show-score-thr'] });
            drawn++;
          }
        }
      : undefined,
  });
  if (!report) return endJob(dist); // ranks other than 0 of a distributed evaluation
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
  console.log(`evaluated ${dataset.length} samples of data.${split} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (report.text) console.log(report.text);
  printMetrics(report.metrics, report.headline);
  if (argv.out) for (const f of evaluator.writeResults!(argv.out, { config: argv.config, checkpoint: argv.checkpoint, split }, report)) console.log(`wrote ${f}`);
  if (showDir) console.log(`drew ${drawn} images in ${showDir}`);
  await endJob(dist);
});
