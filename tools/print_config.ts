// tools/print_config: prints the resolved config (bases merged, overrides applied, validated).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { formatConfig, loadConfig, loadConfigUnchecked } from '../core/config';
import { failLine, importRegistrations, runTool } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/print_config')
    .usage('$0 --config <file> [--cfg-options k=v ...]\n\nPrints the resolved config after inheritance and overrides.')
    .option('config', { type: 'string', demandOption: true, describe: 'config file' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value' })
    .option('validate', { type: 'boolean', default: true, describe: 'validate against the schemas (--no-validate prints a broken config)' })
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();
  await importRegistrations();
  const cfg = argv.validate ? (await loadConfig(argv.config, argv['cfg-options'])).cfg : await loadConfigUnchecked(argv.config, argv['cfg-options']);
  process.stdout.write(formatConfig(cfg));
});
