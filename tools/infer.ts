// tools/infer: runs a config + checkpoint on image files. Detectors write, per image, a PNG with
// the predictions drawn and a JSON with boxes (x1, y1, x2, y2), scores, labels and RLE masks; model
// types registered in models/image_inference (ImageClassifier: top-5 classes) run their own inference.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { decodeImage, encodePngRgb } from '../datasets/io/image';
import { imageBatch, initDetector } from '../models/inference';
import { IMAGE_INFERENCE } from '../models/image_inference';
import { loadConfig } from '../core/config';
import { bitmapToRle } from '../structures/mask_rle';
import { drawDetections } from '../visualization/draw_detections';
import '../backbones';
import '../datasets/register';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/infer')
    .usage('$0 --config <file> --checkpoint <file> <image>... --out-dir <dir>\n\nDetects objects in images and writes <name>.png (drawn) and <name>.json per image.')
    .option('config', { type: 'string', demandOption: true, describe: 'detector config file' })
    .option('checkpoint', { type: 'string', describe: 'checkpoint (.safetensors) loaded strictly; without it the weights are random' })
    .option('out-dir', { type: 'string', demandOption: true, describe: 'output folder' })
    .option('score-thr', { type: 'number', default: 0.3, describe: 'smallest score drawn (the JSON keeps every detection)' })
    .option('scale', { type: 'number', default: 1, describe: 'integer upscaling of the drawn PNG (small images)' })
    .option('classes', { type: 'string', array: true, describe: 'class names for the captions (default: the label numbers)' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .demandCommand(1, 'give at least one image file')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  await importRegistrations();
  await setupBackend(argv.backend);
  // Model types with their own single-image inference (e.g. ImageClassifier: top-5) run it here.
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  const own = IMAGE_INFERENCE.get(cfg.model.type);
  if (own) return own({ cfg, configFile: argv.config, checkpoint: argv.checkpoint ?? null, files: argv._.map(String), outDir: argv['out-dir'], classes: argv.classes });
  const det = await initDetector(argv.config, argv.checkpoint ?? null, argv['cfg-options']);
  mkdirSync(argv['out-dir'], { recursive: true });
  for (const file of argv._.map(String)) {
    const img = await decodeImage(file);
    const t0 = performance.now();
    const batch = await imageBatch(det, file);
    const r = (await det.model.predictBitmaps(batch))[0];
    const ms = performance.now() - t0;
    const name = basename(file, extname(file));
    writeFileSync(join(argv['out-dir'], `${name}.png`), encodePngRgb(drawDetections(img, r, { classes: argv.classes, scoreThr: argv['score-thr'], scale: argv.scale })));
    const json = {
      image: file,
      bboxes: Array.from({ length: r.scores.length }, (_, j) => Array.from(r.bboxes.subarray(j * 4, j * 4 + 4))),
      scores: Array.from(r.scores),
      labels: Array.from(r.labels),
      masks: (r.masks ?? []).map((m) => bitmapToRle(m, img.height, img.width)),
    };
    writeFileSync(join(argv['out-dir'], `${name}.json`), `${JSON.stringify(json)}\n`);
    console.log(`${file}: ${r.scores.filter((s) => s >= argv['score-thr']).length} detection(s) >= ${argv['score-thr']} (${r.scores.length} in total) in ${ms.toFixed(0)} ms`);
  }
});
