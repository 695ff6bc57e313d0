// COCO detection evaluation of a results file against an instances JSON (pycocotools-exact).
//
//   tools/coco_eval --gt instances.json --results results.json --iou-type bbox|segm [--json out.json] [--classwise]
//
// stdout: the 12 summary lines exactly as pycocotools prints them (then the classwise table if
// asked). Progress goes to stderr. Bad input: one line on stderr, exit code 1.

import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ProgressBar } from '../core/progress';
import { COCO, COCOeval, EvalInputError, classwiseTable, perCategory, type IouType } from '../evaluation';

function writeJson(path: string, value: unknown): void {
  try {
    writeFileSync(path, JSON.stringify(value, null, 1) + '\n');
  } catch (e) {
    throw new EvalInputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function main(): void {
  const argv = yargs(hideBin(process.argv))
    .scriptName('coco_eval')
    .usage('$0 --gt <instances.json> --results <results.json> --iou-type bbox|segm [--json out] [--classwise]')
    .option('gt', { type: 'string', demandOption: true, describe: 'ground-truth instances JSON (COCO format)' })
    .option('results', { type: 'string', demandOption: true, describe: 'detection results JSON (a list of result rows)' })
    .option('iou-type', { choices: ['bbox', 'segm'] as const, demandOption: true, describe: 'what to evaluate' })
    .option('json', { type: 'string', describe: 'write {"stats": [12], "per_category": [...]} to this file' })
    .option('classwise', { type: 'boolean', default: false, describe: "print mmdetection's per-category AP table" })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress lines on stderr' })
    .strict()
    .help()
    .fail((msg, err) => {
      process.stderr.write(`coco_eval: error: ${(msg ?? err?.message ?? '').replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(2);
    })
    .parseSync();

  const log = (s: string) => {
    if (!argv.quiet) process.stderr.write(s + '\n');
  };
  const iouType = argv['iou-type'] as IouType;
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    const s = ((now - t) / 1000).toFixed(2);
    t = now;
    return s;
  };
  const gt = new COCO(argv.gt);
  log(`loaded ground truth ${argv.gt}: ${gt.imgs.size} images, ${gt.anns.size} annotations (${lap()}s)`);
  const dt = gt.loadRes(argv.results);
  log(`loaded results ${argv.results}: ${dt.anns.size} rows (${lap()}s)`);
  const E = new COCOeval(gt, dt, iouType);
  const bar = new ProgressBar(NaN, { label: `coco_eval evaluate ${iouType}`, unit: 'cell', quiet: argv.quiet });
  E.evaluate((done, total) => {
    bar.total = total;
    bar.tick(done - bar.done);
  });
  bar.finish();
  log(`evaluate ${iouType} (${lap()}s)`);
  E.accumulate();
  log(`accumulate (${lap()}s)`);
  const summary = E.summarize();
  process.stdout.write(summary + '\n');
  const rows = perCategory(E);
  if (argv.classwise) process.stdout.write(classwiseTable(rows) + '\n');
  if (argv.json) writeJson(argv.json, { stats: E.stats, per_category: rows });
}

try {
  main();
} catch (e) {
  if (e instanceof EvalInputError) {
    process.stderr.write(`coco_eval: error: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`coco_eval: internal error: ${(e as Error).message}\n`);
  process.exit(70);
}
