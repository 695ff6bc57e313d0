/**
 * benchmark_data: images/s of the data pipeline alone (decode + augment + collate),
 * for the COCO train pipeline at 1333x800 and the ADE20K train pipeline (crop 512),
 * on generated 640x480 JPEGs, for each worker count asked.
 *   tools/benchmark_data [--workers 0,1,2] [--images 48] [--batch 2] [--data-dir work_dirs/bench_data]
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { buildDataset, type DatasetConfig } from '../datasets/build';
import { DataLoader } from '../datasets/loader';
import { ADE_TRAIN_PIPELINE, COCO_TRAIN_PIPELINE } from '../datasets/recipes';
import { writeShapesAde, writeShapesCoco } from '../datasets/synthetic/write';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('benchmark_data')
    .option('workers', { type: 'string', default: '0,1,2', describe: 'comma-separated worker counts' })
    .option('images', { type: 'number', default: 48, describe: 'images per measurement' })
    .option('batch', { type: 'number', default: 2, describe: 'batch size' })
    .option('data-dir', { type: 'string', default: 'work_dirs/bench_data', describe: 'where the 640x480 JPEGs are generated' })
    .option('which', { choices: ['coco', 'ade', 'both'] as const, default: 'both' as const })
    .strict()
    .help()
    .parse();
  const workers = argv.workers.split(',').map((w) => Number(w));
  if (workers.some((w) => !Number.isInteger(w) || w < 0)) throw new UserError(`--workers: expected comma-separated non-negative integers, got ${argv.workers}`);
  const cocoDir = join(argv['data-dir'], 'coco');
  const adeDir = join(argv['data-dir'], 'ade');
  const gen = { train: argv.images, val: 0, size: 640, width: 640, height: 480, seed: 0 };
  if (!existsSync(join(cocoDir, 'annotations', 'instances_train.json'))) await writeShapesCoco(cocoDir, gen);
  if (!existsSync(join(adeDir, 'images', 'training'))) await writeShapesAde(adeDir, gen);

  const cases: [string, DatasetConfig][] = [];
  if (argv.which !== 'ade')
    cases.push(['COCO train (1333x800, masks)', { type: 'CocoDataset', data_root: cocoDir, ann_file: 'annotations/instances_train.json', img_prefix: 'train/', pipeline: COCO_TRAIN_PIPELINE }]);
  if (argv.which !== 'coco')
    cases.push(['ADE20K train (crop 512)', { type: 'ADE20KDataset', data_root: adeDir, img_dir: 'images/training', ann_dir: 'annotations/training', pipeline: ADE_TRAIN_PIPELINE, classes: ['rectangle', 'ellipse', 'triangle', 'diamond'] }]);

  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; node ${process.version}; 640x480 JPEGs; batch ${argv.batch}`);
  for (const [name, cfg] of cases) {
    const ds = buildDataset(cfg);
    for (const w of workers) {
      const loader = new DataLoader(ds, { batchSize: argv.batch, workers: w, shuffle: true, seed: 0 });
      // warm-up: spawn workers, JIT, first decode
      const it = loader[Symbol.asyncIterator]();
      await it.next();
      await it.return?.();
      loader.setEpoch(1);
      const t0 = performance.now();
      let n = 0;
      for await (const b of loader) n += b.shape[0];
      const s = (performance.now() - t0) / 1000;
      await loader.close();
      console.log(`${name.padEnd(30)} workers ${w}: ${(n / s).toFixed(1)} images/s (${n} images, ${(s * 1000 / n).toFixed(1)} ms/image)`);
    }
  }
}

main().catch((e: Error) => {
  if (e instanceof UserError) console.error(`benchmark_data: ${e.message}`);
  else console.error(e);
  process.exit(1);
});
