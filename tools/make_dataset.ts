/**
 * make_dataset: writes small synthetic datasets in the real layouts.
 *   tools/make_dataset shapes-coco --out data/shapes_coco [--train 300 --val 60 --size 160 --seed 0]
 *   tools/make_dataset shapes-ade  --out data/shapes_ade  [...]
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { ProgressBar } from '../core/progress';
import { writeShapesAde, writeShapesCoco, type ShapesOptions } from '../datasets/synthetic/write';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('make_dataset')
    .usage('$0 <kind> --out <dir> [options]\n\nkind: shapes-coco (COCO instances layout) or shapes-ade (ADE20K layout, 0 = other)')
    .command('$0 <kind>', false)
    .positional('kind', { choices: ['shapes-coco', 'shapes-ade'] as const, describe: 'dataset layout to write' })
    .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
    .option('train', { type: 'number', default: 300, describe: 'training images' })
    .option('val', { type: 'number', default: 60, describe: 'validation images' })
    .option('size', { type: 'number', default: 160, describe: 'longest image side (sides vary in [0.75*size, size])' })
    .option('width', { type: 'number', describe: 'fixed image width (with --height), e.g. 640 for benchmarks' })
    .option('height', { type: 'number', describe: 'fixed image height (with --width)' })
    .option('seed', { type: 'number', default: 0, describe: 'random seed (same seed: same scenes in both layouts)' })
    .strict()
    .help()
    .parse();
  for (const k of ['train', 'val', 'size', 'seed'] as const)
    if (!Number.isInteger(argv[k]) || argv[k] < 0) throw new UserError(`--${k}: expected a non-negative integer, got ${argv[k]}`);
  if (argv.size < 32) throw new UserError(`--size: expected at least 32, got ${argv.size}`);
  if ((argv.width === undefined) !== (argv.height === undefined)) throw new UserError('--width and --height: give both or neither');
  const bar = new ProgressBar(argv.train + argv.val, { label: `make_dataset ${argv.kind}`, unit: 'img' });
  const opts: ShapesOptions = { train: argv.train, val: argv.val, size: argv.size, seed: argv.seed, width: argv.width, height: argv.height, onImage: () => bar.tick() };
  const t0 = Date.now();
  if (argv.kind === 'shapes-coco') {
    const r = await writeShapesCoco(argv.out, opts);
    bar.finish();
    console.log(`wrote ${r.images} images, ${r.annotations} annotations (COCO layout) to ${argv.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    const r = await writeShapesAde(argv.out, opts);
    bar.finish();
    console.log(`wrote ${r.images} images + label maps (ADE20K layout) to ${argv.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().catch((e: Error) => {
  if (e instanceof UserError) console.error(`make_dataset: ${e.message}`);
  else console.error(e);
  process.exit(1);
});
