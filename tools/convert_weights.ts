// tools/convert_weights <in.pth|.safetensors> <out.safetensors> [--config cfg]: official TinyViM
// classification weights, or detector/segmentor checkpoints of the official mmdet/mmseg runs, to
// our safetensors, printing every renamed and dropped key (and, with --config, the missing ones).
import { existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { UserError } from '../core/errors';
import { MODELS } from '../core/registry';
import { readCheckpoint, stateDict } from '../checkpoint';
import { convertStateDict, formatConvertReport } from '../checkpoint/convert';
import { writeSafetensors } from '../checkpoint/formats/safetensors';
import type { Module } from '../nn/module';
import { failLine, importRegistrations, runTool } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/convert_weights')
    .usage(
      '$0 <in> <out> [--config <file>]\n\nConverts PyTorch weights (.pth: official TinyViM, mmdet/mmseg checkpoints) to safetensors, strips\nDataParallel prefixes, and with --config maps them onto that model (backbone. prefix for classification\nweights; keys the model lacks or with other shapes are dropped). Prints every renamed/dropped key.',
    )
    .command('$0 <in> <out>', false)
    .positional('in', { type: 'string', describe: '.pth (zip or legacy) or .safetensors' })
    .positional('out', { type: 'string', describe: 'output .safetensors' })
    .option('config', { type: 'string', describe: 'target model config: keys are checked against its state_dict' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const src = String(argv.in);
  const out = String(argv.out);
  if (!existsSync(src)) throw new UserError(`${src}: no such weight file`);
  if (!out.endsWith('.safetensors')) throw new UserError(`${out}: the output must be a .safetensors file`);
  const ck = readCheckpoint(src);
  console.log(`${src}: ${ck.format}, ${ck.stateDict.size} tensors${ck.wrapper ? ` under '${ck.wrapper}'` : ''}`);
  let target: Map<string, readonly number[]> | undefined;
  if (argv.config) {
    await importRegistrations();
    const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
    // Only names and shapes are needed: building loads no weights (init_cfg applies in initWeights).
    const model = MODELS.build(cfg.model, undefined, 'model') as { module: Module };
    target = new Map([...stateDict(model.module)].map(([k, t]) => [k, t.shape]));
  }
  const { tensors, report } = convertStateDict(ck.stateDict, target);
  console.log(formatConvertReport(report, tensors.size));
  writeFileSync(out, writeSafetensors(tensors, { format: 'pt', source: basename(src) }));
  console.log(`wrote ${out}`);
});
