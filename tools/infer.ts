// tools/infer: runs a config + checkpoint on image files (files, folders, globs). Detectors write, per
// image, a PNG with the predictions drawn and a JSON with boxes (x1, y1, x2, y2), scores, labels and
// RLE masks; model types registered in models/image_inference (ImageClassifier: top-5 classes) run
// their own inference.
import { writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { decodeImage, encodePngRgb, type RgbImage } from '../datasets/io/image';
import { imageBatch, initDetector } from '../models/inference';
import { ProgressBar } from '../core/progress';
import { IMAGE_INFERENCE } from '../models/image_inference';
import { loadConfig } from '../core/config';
import { bitmapToRle } from '../structures/mask_rle';
import { drawDetections } from '../visualization/draw_detections';
import '../backbones';
import '../datasets/register';
import { checkInt, checkRange, failWithHints, knownFlags } from './lib/args';
import { checkWritableDir, expandImageArgs } from './lib/paths';
import { BACKEND_CHOICES, importRegistrations, runTool, setupBackend } from './lib/cli';

/** Decodes one input image; anything the decoder rejects becomes one line naming the file. */
async function readImage(file: string): Promise<RgbImage> {
  try {
    const img = await decodeImage(file);
    if (!(img.width > 0 && img.height > 0)) throw new UserError(`${file}: image is ${img.width}x${img.height} (width x height); nothing to detect in`);
    return img;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read the image (${(e as Error).message.split('\n')[0]})`);
  }
}

runTool(async () => {
  const parser = yargs(hideBin(process.argv))
    .scriptName('tools/infer')
    .usage(
      '$0 --config <file> --checkpoint <file> <image|folder|glob>... --out-dir <dir>\n\n' +
        'Detects objects in images and writes <name>.png (drawn) and <name>.json per image. A folder gives its image files; ' +
        "a quoted glob ('data/val/*.jpg') its matches.",
    )
    .option('config', { type: 'string', demandOption: true, describe: 'detector config file' })
    .option('checkpoint', { type: 'string', describe: 'checkpoint (.safetensors) loaded strictly (required unless --allow-random-weights)' })
    .option('allow-random-weights', { type: 'boolean', default: false, describe: 'run without a checkpoint (random weights: only to try the pipeline)' })
    .option('out-dir', { type: 'string', demandOption: true, describe: 'output folder' })
    .option('score-thr', { type: 'number', default: 0.3, alias: 'show-score-thr', describe: 'smallest score drawn, in [0, 1] (the JSON keeps every detection)' })
    .option('scale', { type: 'number', describe: 'integer upscaling (>= 1) of the drawn PNG (default: images under 480 px are enlarged so captions stay legible)' })
    .option('classes', { type: 'string', array: true, describe: "class names for the captions (default: the checkpoint's meta.CLASSES, else label numbers)" })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .demandCommand(1, 'give at least one image file, folder or glob')
    .strict()
    .help();
  const argv = await parser.fail(failWithHints(() => knownFlags(parser))).parseAsync();
  checkRange('--score-thr', argv['score-thr'], 0, 1);
  if (argv.scale !== undefined) checkInt('--scale', argv.scale, 1);
  const files = expandImageArgs(argv._.map(String));
  checkWritableDir(argv['out-dir'], '--out-dir');
  await importRegistrations();
  await setupBackend(argv.backend);
  // Model types with their own single-image inference (e.g. ImageClassifier: top-5) run it here.
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  const own = IMAGE_INFERENCE.get(cfg.model.type);
  if (own) return own({ cfg, configFile: argv.config, checkpoint: argv.checkpoint ?? null, files, outDir: argv['out-dir'], classes: argv.classes });
  const det = await initDetector(argv.config, argv.checkpoint ?? null, argv['cfg-options'], { allowRandomWeights: argv['allow-random-weights'] });
  console.log(`weights: ${det.weights}`);
  if (!argv.checkpoint) console.log('warning: random weights (--allow-random-weights): the detections are meaningless');
  const classes = argv.classes ?? det.classes ?? null;
  console.log(classes ? `class names: ${argv.classes ? '--classes' : 'checkpoint meta.CLASSES'} (${classes.length})` : 'class names: none in the checkpoint; captions show label numbers (give --classes)');
  const bar = new ProgressBar(files.length, { label: 'infer', unit: 'img', quiet: files.length < 2 });
  const names = new Map<string, number>();
  for (const file of files) {
    const img = await readImage(file);
    const t0 = performance.now();
    const batch = await imageBatch(det, file);
    const r = (await det.model.predictBitmaps(batch))[0];
    const ms = performance.now() - t0;
    // Same-named images from different folders (a/x.jpg, b/x.jpg) must not overwrite each other.
    let name = basename(file, extname(file));
    const seen = names.get(name) ?? 0;
    names.set(name, seen + 1);
    if (seen) name = `${name}_${seen}`;
    writeFileSync(join(argv['out-dir'], `${name}.png`), encodePngRgb(drawDetections(img, r, { classes, scoreThr: argv['score-thr'], scale: argv.scale ?? 'auto' })));
    const json = {
      image: file,
      bboxes: Array.from({ length: r.scores.length }, (_, j) => Array.from(r.bboxes.subarray(j * 4, j * 4 + 4))),
      scores: Array.from(r.scores),
      labels: Array.from(r.labels),
      ...(classes ? { label_names: Array.from(r.labels, (l) => classes[l] ?? String(l)) } : {}),
      masks: (r.masks ?? []).map((m) => bitmapToRle(m, img.height, img.width)),
    };
    writeFileSync(join(argv['out-dir'], `${name}.json`), `${JSON.stringify(json)}\n`);
    bar.tick();
    bar.log(`${file}: ${r.scores.filter((s) => s >= argv['score-thr']).length} detection(s) >= ${argv['score-thr']} (${r.scores.length} in total) in ${ms.toFixed(0)} ms`);
  }
  bar.finish();
});
