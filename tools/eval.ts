// tools/eval: evaluates a checkpoint on the config's test (else val) dataset with the dataset's
// evaluator (EVALUATORS): COCO bbox/segm summaries (and mmdet's classwise tables) on a CocoDataset,
// mmseg's mIoU table on a segmentation dataset, whatever a registered evaluator reports otherwise.
import { dirname, resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { ConfigError, UserError } from '../core/errors';
import { ProgressBar } from '../core/progress';
import type { BuiltDataset, DataLoader, Evaluator, TrainableModel } from '../core/registry';
import type { ImgMeta } from '../datasets/types';
import { buildDataset, buildModel } from '../engine/build';
import { assertFiniteCheckpoint, loadStateDict, readCheckpoint } from '../checkpoint';
import { buildEvaluator, configMetric, evalLoader, inferenceOnDataset } from '../engine/evaluate';
import { testLoaderOptions } from '../engine/test_loader';
import { endJob, LAUNCHERS, startJob } from '../engine/dist/launch';
import { writeResultImage } from '../visualization/draw_result';
import { applyAugTest } from './lib/aug_test';
import { formatOnlyEvaluator } from './lib/format_only';
import { checkRange, failWithHints, knownFlags } from './lib/args';
import { checkWritableDir } from './lib/paths';
import { BACKEND_CHOICES, importRegistrations, runTool, setupBackend } from './lib/cli';

function printMetrics(metrics: Record<string, number>, keys = Object.keys(metrics)): void {
  for (const k of keys) console.log(`${k}: ${metrics[k].toFixed(4)}`);
}

runTool(async () => {
  const parser = yargs(hideBin(process.argv))
    .scriptName('tools/eval')
    .command('$0 [config] [checkpoint]', 'Evaluates a checkpoint', (y) =>
      y
        .positional('config', { type: 'string', describe: 'config file; also --config <file>' })
        .positional('checkpoint', { type: 'string', describe: 'checkpoint (.safetensors) to evaluate, loaded strictly; also --checkpoint <file>' }),
    )
    .usage(
      '$0 --config <file> --checkpoint <file> [options]   (or mmdetection style: $0 <config> <checkpoint> [--eval bbox segm])\n\nEvaluates a checkpoint on data.test (or data.val) with the metrics of cfg.evaluation.metric:\n' +
        'COCO bbox/segm (pycocotools summaries) for detectors, aAcc/mIoU/mAcc with the per-class table for segmentors.',
    )
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
    .option('metric', { type: 'string', array: true, alias: 'eval', describe: 'metrics to compute (default: cfg.evaluation.metric); mmdetection\'s --eval bbox segm is the same flag' })
    .option('allow-nonfinite', { type: 'boolean', default: false, describe: 'evaluate even a checkpoint holding NaN/Inf values (refused by default)' })
    .option('format-only', { type: 'boolean', default: false, describe: 'write the --out result files without scoring them (COCO test-dev submission: point data.test.ann_file at image_info_test-dev2017.json)' })
    .option('aug-test', { type: 'boolean', default: false, describe: "segmentors: multi-scale + flip test (mmseg aug_test; img_ratios from model.test_cfg.img_ratios, else mmseg's [0.5, 0.75, 1.0, 1.25, 1.5, 1.75])" })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .option('launcher', { choices: LAUNCHERS, default: 'none' as const, describe: 'mpi: one rank of `mpirun -np N tools/eval ...`; each rank infers its shard, rank 0 scores and prints' })
    .strict()
    .help();
  const argv = await parser.fail(failWithHints(() => knownFlags(parser))).parseAsync();
  const config = argv.config as string | undefined;
  const checkpoint = argv.checkpoint as string | undefined;
  if (!config || !checkpoint) return failWithHints(() => [])(`Missing required argument: ${!config ? 'config' : 'checkpoint'} (tools/eval <config> <checkpoint>, or --config and --checkpoint)`, null);

  await importRegistrations();
  const { cfg } = await loadConfig(config, argv['cfg-options']);
  if (argv['aug-test']) applyAugTest(cfg, config);
  const split = cfg.data.test ? 'test' : cfg.data.val ? 'val' : null;
  if (!split) throw new ConfigError(`${config}: data.test (or data.val) is required to evaluate`, 'data.test', config);
  checkRange('--show-score-thr', argv['show-score-thr'], 0, 1);
  if (argv.launcher === 'mpi' && argv['show-dir']) throw new UserError('--show-dir is not supported with --launcher mpi; draw with a single-process tools/eval');
  const dist = await startJob(argv.launcher, argv.backend, () => 'evaluation stopped');
  const ckpt = readCheckpoint(checkpoint);
  if (!argv['allow-nonfinite']) assertFiniteCheckpoint(ckpt, checkpoint);
  await setupBackend(argv.backend);
  const model = buildModel(cfg) as TrainableModel<{ metas?: ImgMeta[] }, unknown>;
  loadStateDict(model.module, ckpt.stateDict, { strict: true, source: checkpoint });
  const dataset = buildDataset(cfg, split)! as BuiltDataset<{ metas?: ImgMeta[] }>;
  const metric = argv.metric ?? configMetric(cfg);
  // Everything the run needs is checked before inference: the evaluator validates the metric names
  // as it is built, and the output folders must be writable.
  const built = buildEvaluator(cfg, dataset, metric, argv.classwise ? { classwise: true } : {});
  const evaluator = argv['format-only'] ? formatOnlyEvaluator(built, argv.out, config) : built;
  if (argv.out && !evaluator.writeResults) throw new UserError(`--out: the evaluator of ${config} writes no results file`);
  if (argv.out) checkWritableDir(dirname(resolve(argv.out)), '--out');
  const showDir = argv['show-dir'];
  if (showDir) checkWritableDir(resolve(showDir), '--show-dir');
  const classes = ((dataset.raw as { classes?: readonly string[] } | undefined)?.classes ?? []) as readonly string[];
  let drawn = 0;

  const started = performance.now();
  const loader = evalLoader(dataset, testLoaderOptions(cfg, split)) as DataLoader<{ metas?: ImgMeta[] }>;
  const bar = new ProgressBar(loader.length, { label: `eval data.${split}`, unit: 'batch' });
  const report = dist
    ? await dist.evaluateReport(model, dataset, evaluator as Evaluator<{ metas?: ImgMeta[] }, unknown>, { workers: cfg.data.workers_per_gpu })
    : await inferenceOnDataset(model, loader, evaluator as Evaluator<{ metas?: ImgMeta[] }, unknown>, {
    onProgress: (d, n) => {
      bar.total = n;
      bar.tick(d - bar.done);
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
  bar.finish();
  console.log(`evaluated ${dataset.length} samples of data.${split} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (report.text) console.log(report.text);
  printMetrics(report.metrics, report.headline);
  if (argv.out) for (const f of evaluator.writeResults!(argv.out, { config, checkpoint, split }, report)) console.log(`wrote ${f}`);
  if (showDir) console.log(`drew ${drawn} images in ${showDir}`);
  await endJob(dist);
});
