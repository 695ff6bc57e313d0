// Semantic segmentation evaluation (mmsegmentation's mIoU) of two folders of PNG label maps.
//
//   tools/seg_eval --gt-dir <dir> --pred-dir <dir> --num-classes N [--reduce-zero-label]
//                  [--ignore-index 255] [--class-names a,b,...] [--json out.json]
//
// Files are matched by name. stdout: the per-class table and aAcc/mIoU/mAcc in percent.
// --json writes fractions in [0,1], with null for NaN. Bad input: one line on stderr, exit code 1.

import { readFileSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EvalInputError, evaluateLabelDirs, miouTable } from '../evaluation';

const nullNaN = (v: number) => (Number.isNaN(v) ? null : v);

function classNames(arg: string | undefined, n: number): string[] | undefined {
  if (!arg) return undefined;
  let names: string[];
  if (arg.endsWith('.txt') || arg.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(arg, 'utf8');
    } catch {
      throw new EvalInputError(`${arg}: cannot read class names file`);
    }
    names = arg.endsWith('.json') ? (JSON.parse(text) as string[]) : text.split('\n').map((s) => s.trim()).filter(Boolean);
  } else names = arg.split(',');
  if (names.length !== n) throw new EvalInputError(`--class-names: ${names.length} names given for --num-classes ${n}`);
  return names;
}

function writeJson(path: string, value: unknown): void {
  try {
    writeFileSync(path, JSON.stringify(value, null, 1) + '\n');
  } catch (e) {
    throw new EvalInputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function main(): void {
  const argv = yargs(hideBin(process.argv))
    .scriptName('seg_eval')
    .usage('$0 --gt-dir <dir> --pred-dir <dir> --num-classes N [--reduce-zero-label] [--ignore-index 255] [--json out]')
    .option('gt-dir', { type: 'string', demandOption: true, describe: 'folder of ground-truth PNG label maps' })
    .option('pred-dir', { type: 'string', demandOption: true, describe: 'folder of predicted PNG label maps (same file names)' })
    .option('num-classes', { type: 'number', demandOption: true, describe: 'number of classes' })
    .option('reduce-zero-label', { type: 'boolean', default: false, describe: 'GT 0 → ignored, other GT values minus 1' })
    .option('ignore-index', { type: 'number', default: 255, describe: 'GT value that is not evaluated' })
    .option('class-names', { type: 'string', describe: 'comma-separated names, or a .txt (one per line) / .json list' })
    .option('json', { type: 'string', describe: 'write {"aAcc","mIoU","mAcc","IoU":[],"Acc":[]} (fractions) to this file' })
    .strict()
    .help()
    .fail((msg, err) => {
      process.stderr.write(`seg_eval: error: ${(msg ?? err?.message ?? '').replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(2);
    })
    .parseSync();

  const n = argv['num-classes'];
  if (!Number.isInteger(n) || n < 1) throw new EvalInputError(`--num-classes must be a positive integer, got ${n}`);
  const names = classNames(argv['class-names'], n);
  const { metrics, acc } = evaluateLabelDirs(argv['gt-dir'], argv['pred-dir'], {
    numClasses: n,
    ignoreIndex: argv['ignore-index'],
    reduceZeroLabel: argv['reduce-zero-label'],
    classNames: names,
  });
  process.stdout.write(`evaluated ${acc.numImages} images\n${miouTable(metrics, acc.classNames)}\n`);
  if (argv.json) {
    const out = {
      aAcc: nullNaN(metrics.aAcc),
      mIoU: nullNaN(metrics.mIoU),
      mAcc: nullNaN(metrics.mAcc),
      IoU: Array.from(metrics.IoU, nullNaN),
      Acc: Array.from(metrics.Acc, nullNaN),
    };
    writeJson(argv.json, out);
  }
}

try {
  main();
} catch (e) {
  if (e instanceof EvalInputError) {
    process.stderr.write(`seg_eval: error: ${e.message}\n`);
    process.exit(1);
  }
  if (e instanceof SyntaxError) {
    process.stderr.write(`seg_eval: error: ${e.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`seg_eval: internal error: ${(e as Error).message}\n`);
  process.exit(70);
}
