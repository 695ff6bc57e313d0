// tools/eval: evaluates a checkpoint on the config's test (else val) dataset. Detectors on a
// CocoDataset get COCO bbox/segm summaries (and mmdet's classwise tables), segmentors mmseg's mIoU
// table; any other model/dataset pair the dataset's own evaluate().
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { ConfigError, UserError } from '../core/errors';
import type { BuiltDataset, TrainableModel } from '../core/registry';
import type { RawDataset } from '../datasets/base';
import { decodeImage, encodePngRgb } from '../datasets/io/image';
import { buildDataset, buildModel } from '../engine/build';
import { assertFiniteCheckpoint, loadStateDict, readCheckpoint } from '../engine/checkpoint';
import { predictAll } from '../engine/evaluate';
import { writeCocoResultFiles } from '../models/coco_results';
import { type CocoSource, checkCocoMetric, classwiseTables, evaluateCocoDetections } from '../models/det_evaluation';
import type { SegResult } from '../models/encoder_decoder';
import type { InstanceResult } from '../models/mask_rcnn';
import { instanceResultBitmaps } from '../models/mask_encoding';
import { checkSegMetric, evaluateSegDataset } from '../models/seg_evaluation';
import { defaultPalette, writeSegVisualization } from '../visualization/seg_overlay';
import { drawDetections } from './lib/draw_detections';
import { checkRange, failWithHints, knownFlags } from './lib/args';
import { checkWritableDir } from './lib/paths';
import { BACKEND_CHOICES, importRegistrations, runTool, setupBackend } from './train_common';

interface Args {
  config: string;
  checkpoint: string;
  split: string;
  out?: string;
  showDir?: string;
  showScoreThr: number;
  classwise: boolean;
}

/** `<dir>/<ori_filename with .png>` (sub-folders of the image name kept). */
function pngPath(dir: string, oriFilename: string): string {
  const file = join(dir, oriFilename.replace(/\.[^./]+$/, '') + '.png');
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 1)}\n`);
}

function printMetrics(metrics: Record<string, number>, keys = Object.keys(metrics)): void {
  for (const k of keys) console.log(`${k}: ${metrics[k].toFixed(4)}`);
}

async function evalDetection(a: Args, source: CocoSource & RawDataset, results: InstanceResult[], metric: string[]): Promise<void> {
  const ev = evaluateCocoDetections(source, results, metric);
  const tables = a.classwise ? classwiseTables(ev) : {};
  for (const t of ev.iouTypes) {
    console.log(`Evaluating ${t}...`);
    console.log(ev.summaries[t]);
    if (tables[t]) console.log(tables[t]);
  }
  printMetrics(ev.metrics);
  if (a.out) {
    const withSegm = results.some((r) => r.masks !== undefined);
    for (const f of writeCocoResultFiles(a.out, ev.rows, withSegm)) console.log(`wrote ${f}`);
  }
  if (a.showDir) {
    for (let i = 0; i < results.length; i++) {
      const s = source.raw(i);
      const img = drawDetections(await decodeImage(s.filename), instanceResultBitmaps(results[i]), { classes: source.classes, scoreThr: a.showScoreThr });
      writeFileSync(pngPath(a.showDir, s.ori_filename), encodePngRgb(img));
    }
    console.log(`drew ${results.length} images in ${a.showDir}`);
  }
}

async function evalSegmentation(a: Args, source: RawDataset, results: SegResult[], metric: string[]): Promise<void> {
  const ev = evaluateSegDataset(source, results, metric.length ? metric : ['mIoU']);
  console.log(ev.table);
  printMetrics(ev.metrics, ['aAcc', 'mIoU', 'mAcc']);
  if (a.out) {
    const images = results.map((r, i) => ({ filename: r.filename, ori_filename: source.raw(i).ori_filename, height: r.height, width: r.width }));
    writeJson(a.out, { config: a.config, checkpoint: a.checkpoint, split: a.split, metrics: ev.metrics, images });
    console.log(`wrote ${a.out}`);
  }
  if (a.showDir) {
    const palette = defaultPalette(source.classes.length);
    for (let i = 0; i < results.length; i++) await writeSegVisualization(a.showDir, results[i], palette, source.raw(i).ori_filename);
    console.log(`drew ${results.length} images in ${a.showDir}`);
  }
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
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .help();
  const argv = await parser.fail(failWithHints(() => knownFlags(parser))).parseAsync();
  const config = argv.config as string | undefined;
  const checkpoint = argv.checkpoint as string | undefined;
  if (!config || !checkpoint) return failWithHints(() => [])(`Missing required argument: ${!config ? 'config' : 'checkpoint'} (tools/eval <config> <checkpoint>, or --config and --checkpoint)`, null);

  await importRegistrations();
  const { cfg } = await loadConfig(config, argv['cfg-options']);
  const split = cfg.data.test ? 'test' : cfg.data.val ? 'val' : null;
  if (!split) throw new ConfigError(`${config}: data.test (or data.val) is required to evaluate`, 'data.test', config);
  checkRange('--show-score-thr', argv['show-score-thr'], 0, 1);
  const ckpt = readCheckpoint(checkpoint);
  if (!argv['allow-nonfinite']) assertFiniteCheckpoint(ckpt, checkpoint);
  await setupBackend(argv.backend);
  const model = buildModel(cfg) as TrainableModel<unknown, unknown>;
  loadStateDict(model.module, ckpt.stateDict, { strict: true, source: checkpoint });
  const dataset = buildDataset(cfg, split)! as BuiltDataset<unknown, unknown>;
  const source = (dataset as { raw?: RawDataset }).raw;
  const cfgMetric = cfg.evaluation?.metric;
  const metric = argv.metric ?? (cfgMetric === undefined ? [] : Array.isArray(cfgMetric) ? cfgMetric : [cfgMetric]);
  const a: Args = { config, checkpoint, split, out: argv.out, showDir: argv['show-dir'], showScoreThr: argv['show-score-thr'], classwise: argv.classwise };
  const isDet = cfg.model.type === 'MaskRCNN' && source?.task === 'det' && 'coco' in source;
  const isSeg = cfg.model.type === 'EncoderDecoder' && source?.task === 'seg';
  // Everything the run needs is checked before inference: metric names, output folders writable.
  if (isDet) checkCocoMetric(metric);
  else if (isSeg) checkSegMetric(metric);
  else dataset.checkMetric?.(metric);
  if (a.out) checkWritableDir(dirname(resolve(a.out)), '--out');
  if (a.showDir) checkWritableDir(resolve(a.showDir), '--show-dir');
  if ((a.showDir || a.classwise) && !isDet && !isSeg) {
    throw new UserError(`${config}: --show-dir and --classwise need a MaskRCNN on a CocoDataset or an EncoderDecoder on a segmentation dataset (model.type is '${cfg.model.type}')`);
  }
  if (a.classwise && isSeg) console.log('note: --classwise is for detectors; the per-class table of a segmentor is always printed');

  const started = performance.now();
  const results = await predictAll(model, dataset, {
    metric,
    batchSize: 1,
    workers: cfg.data.workers_per_gpu,
    onProgress: (d, n) => {
      if (process.stdout.isTTY) process.stdout.write(`\r${d}/${n}`);
    },
  });
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
  console.log(`evaluated ${results.length} samples of data.${split} in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  if (isDet) return evalDetection(a, source as unknown as CocoSource & RawDataset, results as InstanceResult[], metric);
  if (isSeg) return evalSegmentation(a, source!, results as SegResult[], metric);
  if (!dataset.evaluate) throw new UserError('the dataset does not implement evaluate(); it cannot compute metrics');
  const metrics = await dataset.evaluate(results, { metric });
  printMetrics(metrics);
  if (a.out) {
    writeJson(a.out, { config: a.config, checkpoint: a.checkpoint, split, metrics, results });
    console.log(`wrote ${a.out}`);
  }
});
