// tools/publish_model <in> <out>: a release copy of a training checkpoint (optimizer state removed,
// sha256 prefix in the file name), as mmdetection's publish_model.py.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UserError } from '../core/errors';
import { publishCheckpoint, publishedName } from '../checkpoint/publish';
import { failLine, runTool } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/publish_model')
    .usage(
      '$0 <in> <out>\n\nStrips the optimizer state (and rng/scheduler meta) from a training checkpoint and writes\n<out stem>-<sha256[:8]>.safetensors, as mmdetection\'s publish_model.py.',
    )
    .command('$0 <in> <out>', false)
    .positional('in', { type: 'string', describe: 'training checkpoint (.safetensors)' })
    .positional('out', { type: 'string', describe: 'output name; the hash is appended before .safetensors' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const src = String(argv.in);
  if (!existsSync(src)) throw new UserError(`${src}: no such checkpoint file`);
  if (!src.endsWith('.safetensors')) throw new UserError(`${src}: expected a .safetensors checkpoint (convert .pth files with tools/convert_weights first)`);
  const r = publishCheckpoint(readFileSync(src), src);
  const file = publishedName(String(argv.out), r.sha8);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, r.bytes);
  renameSync(tmp, file);
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(`kept ${r.kept} tensors, dropped ${r.dropped.length} optimizer tensors${r.droppedMeta.length ? ` and meta ${r.droppedMeta.join(', ')}` : ''}`);
  console.log(`wrote ${file} (${mb(r.bytes.length)} MiB, was ${mb(readFileSync(src).length)} MiB)`);
});
