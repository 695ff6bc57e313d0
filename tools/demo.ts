// tools/demo (npm run demo): the project's first command. Generates the shapes-coco dataset if it is
// absent, trains Mask R-CNN + FPN with a TinyViM-S backbone from scratch
// (configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts), evaluates COCO bbox and segm mAP on the val
// split, and writes example predictions as PNG. Prints each stage's time.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { UserError } from '../core/errors';
import { createRunner, buildDataset } from '../engine/build';
import { FileLogSink } from '../engine/log_writer';
import { buildEvaluator, evalLoader, inferenceOnDataset } from '../engine/evaluate';
import { testLoaderOptions } from '../engine/test_loader';
import { writeShapesCoco } from '../datasets/synthetic/write';
import { decodeImage, encodePngRgb } from '../datasets/io/image';
import { MaskRCNN } from '../models/mask_rcnn';
import { imageBatch, testPipelineOf } from '../models/inference';
import { drawDetections } from '../visualization/draw_detections';
import '../backbones';
import '../datasets/register';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './lib/cli';
import '../models/mask_rcnn_builder';

interface CocoLike {
  length: number;
  classes: readonly string[];
  coco: unknown;
  imageInfo(i: number): { id: number; file_name: string };
  labelToCatId(label: number): number;
  imgPrefix: string;
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/demo')
    .usage('$0 [options]\n\nGenerates shapes-coco (if absent), trains the demo Mask R-CNN, evaluates it and draws example predictions.')
    .option('config', { type: 'string', default: 'configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts', describe: 'demo config' })
    .option('work-dir', { type: 'string', default: 'work_dirs/demo_mask_rcnn', describe: 'logs, checkpoint, metrics and example PNGs' })
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
  // Generate the dataset where the config reads it (the folder above its annotations/), unless present.
  const trainAnn = (cfg.data.train as { ann_file?: string }).ann_file;
  if (!trainAnn) throw new UserError(`${argv.config}: data.train.ann_file is required by the demo`);
  const dataRoot = dirname(dirname(trainAnn));
  if (!existsSync(trainAnn)) {
    // 600 training and 100 validation scenes, sides 96..128 px (4 shape classes, some crowd regions).
    const r = await writeShapesCoco(dataRoot, { train: 600, val: 100, size: 128, seed: 0 });
    console.log(`[${secs()} s] generated ${r.images} images, ${r.annotations} annotations in ${dataRoot}`);
  }
  if (cfg.model.type !== 'MaskRCNN') throw new UserError(`${argv.config}: model.type is '${cfg.model.type}', expected 'MaskRCNN'`);
  const backend = await setupBackend(argv.backend);
  const workDir = argv['work-dir'];
  mkdirSync(workDir, { recursive: true });
  // The demo evaluates once, after training (below), with the COCO evaluator.
  const trainCfg = { ...cfg, evaluation: undefined };
  const runner = createRunner(trainCfg, { workDir, seed: cfg.seed ?? 0, log: new FileLogSink(workDir), backend });
  const tTrain = performance.now();
  const res = await runner.run();
  const trainSec = (performance.now() - tTrain) / 1000;
  console.log(`[${secs()} s] trained ${res.iter} iterations in ${trainSec.toFixed(0)} s (${(trainSec / Math.max(res.iter, 1)).toFixed(2)} s/iter, batch ${cfg.data.samples_per_gpu}, ${backend})`);

  const model = runner.opts.model;
  if (!(model instanceof MaskRCNN)) throw new UserError(`${argv.config}: the model is not a MaskRCNN`);
  const val = buildDataset(cfg, 'val');
  if (!val) throw new UserError(`${argv.config}: data.val is required`);
  const raw = (val as unknown as { raw: CocoLike }).raw;
  const tEval = performance.now();
  const evaluator = buildEvaluator(cfg, val, ['bbox', 'segm']);
  const report = await inferenceOnDataset(model, evalLoader(val, testLoaderOptions(cfg, 'val')), evaluator);
  const { metrics } = report;
  console.log(report.text);
  console.log(`[${secs()} s] evaluated ${val.length} val images in ${((performance.now() - tEval) / 1000).toFixed(0)} s`);
  writeFileSync(join(workDir, 'metrics.json'), `${JSON.stringify({ ...metrics, train_seconds: trainSec, iters: res.iter, backend }, null, 2)}\n`);
  evaluator.writeResults!(join(workDir, 'results.json'), {}, report);

  const visDir = join(workDir, 'vis');
  mkdirSync(visDir, { recursive: true });
  const det = { model, cfg, pipeline: testPipelineOf(cfg, argv.config) };
  for (let i = 0; i < Math.min(argv.examples, raw.length); i++) {
    const file = join(raw.imgPrefix, raw.imageInfo(i).file_name);
    const r = (await model.predictBitmaps(await imageBatch(det, file)))[0];
    const out = join(visDir, `${basename(file).replace(/\.[^.]+$/, '')}.png`);
    writeFileSync(out, encodePngRgb(drawDetections(await decodeImage(file), r, { classes: raw.classes, scoreThr: 0.3, scale: 3 })));
  }
  console.log(`[${secs()} s] example predictions in ${visDir}`);
  const ok = metrics.bbox_mAP_50 >= 0.5 && metrics.segm_mAP_50 >= 0.5;
  console.log(
    `demo ${ok ? 'reached' : 'did NOT reach'} the target (mAP@0.5 >= 0.5): bbox mAP@0.5 ${metrics.bbox_mAP_50.toFixed(3)}, segm mAP@0.5 ${metrics.segm_mAP_50.toFixed(3)}, bbox mAP ${metrics.bbox_mAP.toFixed(3)}, segm mAP ${metrics.segm_mAP.toFixed(3)}; total ${secs()} s`,
  );
  return ok ? 0 : 2;
});
