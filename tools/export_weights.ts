// tools/export_weights: a checkpoint for the browser (and any other loader): weights only (optimizer
// state dropped), the config and class names in the metadata, optionally stored as float16.
// The output is one of our checkpoints, so tools/eval, tools/infer and initDetector(null, url) read it.
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { checkConfig } from '../core/config';
import { UserError } from '../core/errors';
import { CHECKPOINT_FORMAT, checkpointClasses, readCheckpoint } from '../checkpoint';
import { writeSafetensors } from '../checkpoint/formats/safetensors';
import { failLine, importRegistrations, runTool } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/export_weights')
    .usage('$0 --checkpoint <ckpt.safetensors> --out <file.safetensors> [--fp16] [--classes a b c]')
    .option('checkpoint', { type: 'string', demandOption: true, describe: 'a checkpoint written by tools/train or the demos' })
    .option('out', { type: 'string', demandOption: true, describe: 'output .safetensors' })
    .option('fp16', { type: 'boolean', default: false, describe: 'store float32 tensors as float16 (half the download; read back as float32)' })
    .option('classes', { type: 'string', array: true, describe: 'class names to store (default: those in the checkpoint metadata, if any)' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  await importRegistrations();
  const ck = readCheckpoint(argv.checkpoint);
  if (!ck.meta?.config) throw new UserError(`${argv.checkpoint}: no config in the checkpoint metadata (not written by tools/train?); cannot export a self-describing file`);
  checkConfig(ck.meta.config, `${argv.checkpoint} (metadata config)`);
  const classes = argv.classes ?? checkpointClasses(ck.meta) ?? undefined;
  // CLASSES as the runner (and mmdet) writes it; every reader also accepts `classes`.
  const meta = { iter: ck.meta.iter, epoch: ck.meta.epoch, inner_iter: ck.meta.inner_iter, config: ck.meta.config, CLASSES: classes, source: argv.checkpoint };
  const tensors = [...ck.stateDict].map(([k, t]) => [`state_dict.${k}`, t] as [string, typeof t]);
  const bytes = writeSafetensors(tensors, { format: CHECKPOINT_FORMAT, meta: JSON.stringify(meta) }, { f16: argv.fp16 });
  writeFileSync(argv.out, bytes);
  console.log(`${argv.out}: ${tensors.length} tensors, ${(bytes.byteLength / 1e6).toFixed(2)} MB${argv.fp16 ? ' (float16)' : ''}${classes ? `, classes: ${classes.join(', ')}` : ''}`);
});
