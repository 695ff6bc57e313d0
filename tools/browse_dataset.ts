/**
 * browse_dataset: runs a config's dataset pipeline and draws the transformed samples
 * (boxes, masks and labels, or colour-coded label maps) to PNG files.
 *   tools/browse_dataset --config configs/demo/x.ts [--split train] [--show-dir browse] [--num 8]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfigUnchecked } from '../core/config';
import { UserError } from '../core/errors';
import { Rng } from '../core/rng';
import { buildDataset, type DatasetConfig } from '../datasets/build';
import { buildPipeline } from '../datasets/pipeline';
import { renderSample } from '../visualization/browse';

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('browse_dataset')
    .usage('$0 --config <file> [--show-dir out]')
    .option('config', { type: 'string', demandOption: true, describe: 'config file (TS module whose default export has data.train)' })
    .option('split', { choices: ['train', 'val', 'test'] as const, default: 'train' as const, describe: 'which data.<split> to browse' })
    .option('show-dir', { type: 'string', default: 'work_dirs/browse', describe: 'folder for the PNGs' })
    .option('num', { type: 'number', default: 8, describe: 'number of samples to draw' })
    .option('seed', { type: 'number', default: 0, describe: 'seed of the random augmentations' })
    .option('data-root', { type: 'string', describe: "overrides the dataset's data_root" })
    .option('cfg-options', { type: 'array', string: true, default: [] as string[], describe: 'key=value overrides' })
    .strict()
    .help()
    .parse();
  const cfg = (await loadConfigUnchecked(argv.config, argv['cfg-options'])) as { data?: Record<string, unknown> };
  const dsCfg = cfg.data?.[argv.split];
  if (!dsCfg) throw new UserError(`${argv.config}: data.${argv.split}: required to browse that split (expected a dataset config)`);
  const ds = buildDataset(dsCfg as DatasetConfig, { dataRoot: argv['data-root'] });
  const pipeline = buildPipeline(ds.pipelineCfg as unknown[]);
  mkdirSync(argv['show-dir'], { recursive: true });
  const n = Math.min(argv.num, ds.length);
  for (let i = 0; i < n; i++) {
    const raw = ds.raw(i);
    const sample = await pipeline.run(raw, Rng.derive(argv.seed, 0, i));
    const out = join(argv['show-dir'], `${String(i).padStart(4, '0')}_${basename(raw.ori_filename, extname(raw.ori_filename))}.png`);
    writeFileSync(out, await renderSample(sample, ds.classes));
    console.log(`${out}  ${sample.shape[0]}x${sample.shape[1]}${sample.meta.flip ? ' flipped' : ''}`);
  }
  console.log(`wrote ${n} images to ${argv['show-dir']}`);
}

main().catch((e: Error) => {
  if (e instanceof UserError) console.error(`browse_dataset: ${e.message}`);
  else console.error(e);
  process.exit(1);
});
