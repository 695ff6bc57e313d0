// tools/get_flops: parameters and multiply-accumulates of TinyViM, per stage and total, for the
// training form and the fused (re-parameterised) deploy form. Counted analytically (no forward pass).
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isValidInputSize } from '../backbones';
import { type ComplexityReport, tinyvimComplexity } from '../backbones/tinyvim/complexity';
import { failLine, runTool } from './lib/cli';
import { MODEL_CHOICES, parseShape, tinyvimConfigFromArgs } from './get_flops_common';

const M = (n: number) => (n / 1e6).toFixed(3) + 'M';
const G = (n: number) => (n / 1e9).toFixed(3) + 'G';

function table(train: ComplexityReport, fused: ComplexityReport): string {
  const rows = [['part', 'params', 'params (fused)', 'MACs', 'MACs (fused)', 'scan MACs']];
  train.parts.forEach((p, i) => rows.push([p.name, M(p.params), M(fused.parts[i].params), G(p.macs), G(fused.parts[i].macs), (p.scanMacs / 1e6).toFixed(3) + 'M']));
  rows.push(['total', M(train.params), M(fused.params), G(train.macs), G(fused.macs), (train.scanMacs / 1e6).toFixed(3) + 'M']);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r, i) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ') + (i === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/get_flops')
    .usage(
      '$0 --model TinyViM_S|TinyViM_B|TinyViM_L --mode cls|backbone [--fused] [--shape H W] [--json out.json]\n' +
        '$0 --config <file> [--shape H W] [--json out.json]\n\n' +
        'Parameters and MACs (conv + linear; the selective scan listed separately as scan MACs), per stage and total,\n' +
        'for the training form and the fused deploy form. --fused selects the form written to --json.',
    )
    .option('model', { type: 'string', choices: MODEL_CHOICES, describe: 'official variant' })
    .option('mode', { type: 'string', choices: ['cls', 'backbone'] as const, default: 'cls', describe: 'classification (norm + head + dist_head) or fork_feat backbone' })
    .option('config', { type: 'string', describe: 'config file whose model.backbone is a TinyViM' })
    .option('shape', { type: 'number', array: true, describe: 'input H W (default 224 224)' })
    .option('fused', { type: 'boolean', default: false, describe: 'write the fused (re-parameterised) counts to --json' })
    .option('json', { type: 'string', describe: 'write {params, macs, scan_macs, per_stage} here' })
    .conflicts('config', 'model')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  const { cfg, label } = await tinyvimConfigFromArgs(argv);
  const [h, w] = parseShape(argv.shape, [224, 224]);
  const train = tinyvimComplexity(cfg, h, w, false);
  const fused = tinyvimComplexity(cfg, h, w, true);
  console.log(`${label}, input 1x3x${h}x${w}; MACs = conv + linear (the paper's convention); scan MACs = x_proj/dt_proj einsums + recurrence`);
  console.log(table(train, fused));
  if (!isValidInputSize(cfg, h) || !isValidInputSize(cfg, w)) {
    console.log(`note: the model rejects ${h}x${w} at run time (each side X needs X mod 32 in {0, 29, 30, 31}); counts assume it ran`);
  }
  if (argv.json) {
    const sel = argv.fused ? fused : train;
    const out = {
      model: label,
      shape: [h, w],
      form: argv.fused ? 'fused' : 'training',
      params: sel.params,
      macs: sel.macs,
      scan_macs: sel.scanMacs,
      per_stage: sel.parts.map((p) => ({ name: p.name, params: p.params, macs: p.macs, scan_macs: p.scanMacs })),
      training: { params: train.params, macs: train.macs, scan_macs: train.scanMacs },
      fused: { params: fused.params, macs: fused.macs, scan_macs: fused.scanMacs },
    };
    writeFileSync(argv.json, JSON.stringify(out, null, 1) + '\n');
    console.log(`wrote ${argv.json}`);
  }
});
