// tools/train: trains the model of a config file.
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { createRunner } from '../engine/build';
import { LAUNCHERS, SilentLogSink, reportAdapter, runAsRank, startJob } from '../engine/dist/launch';
import { FileLogSink } from '../engine/log_writer';
import { failWithHints, knownFlags } from './lib/args';
import { BACKEND_CHOICES, importRegistrations, runTool, setupBackend } from './lib/cli';

let createdWorkDir: string | null = null;

/** A failed run leaves no empty work dir behind (one that this run created and nothing was written to). */
function removeEmptyWorkDir(): void {
  if (createdWorkDir && existsSync(createdWorkDir) && readdirSync(createdWorkDir).length === 0) rmdirSync(createdWorkDir);
}

runTool(async () => {
  const parser = yargs(hideBin(process.argv))
    .scriptName('tools/train')
    .command('$0 [config]', 'Trains the model of a config file; logs and checkpoints go to the work dir.', (y) =>
      y.positional('config', { type: 'string', describe: 'config file (TypeScript, default export defineConfig({...})); also --config <file>' }),
    )
    .usage('$0 --config <file> [options]   (or mmdetection style: $0 <config> [options])\n\nTrains the model of a config file; logs and checkpoints go to the work dir.')
    .option('work-dir', { type: 'string', describe: 'output folder (default: cfg.work_dir, else work_dirs/<config name>)' })
    .option('resume-from', { type: 'string', describe: 'checkpoint to continue from (weights, optimizer, schedule, iteration, random streams)' })
    // No yargs default here: `conflicts` counts a defaulted flag as given, which made every --resume-from fail.
    .option('auto-resume', { type: 'boolean', describe: 'continue from the latest checkpoint in the work dir if there is one [default: false]' })
    .option('allow-nonfinite', { type: 'boolean', default: false, describe: 'resume even from a checkpoint holding NaN/Inf values (refused by default)' })
    .option('seed', { type: 'number', describe: 'seed for data order, augmentation and initialisation (default: cfg.seed, else 0)' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value (numbers, booleans, lists, None parsed)' })
    .option('launcher', { choices: LAUNCHERS, default: 'none' as const, describe: 'none: one process; mpi: one rank of `mpirun -np N tools/train ...` (see docs/distributed.md)' })
    .conflicts('resume-from', 'auto-resume')
    .strict()
    .help();
  const argv = await parser.fail(failWithHints(() => knownFlags(parser))).parseAsync();
  const config = argv.config as string | undefined;
  if (!config) return failWithHints(() => [])('Missing required argument: config (tools/train <config> or --config <file>)', null);

  await importRegistrations();
  const { cfg } = await loadConfig(config, argv['cfg-options']);
  const workDir = argv['work-dir'] ?? cfg.work_dir ?? join('work_dirs', basename(config, extname(config)));
  if (!existsSync(workDir)) createdWorkDir = workDir;
  const hint = () => `the last good checkpoint is ${join(workDir, 'latest.safetensors')}; continue with --auto-resume`;
  const dist = await startJob(argv.launcher, argv.backend, hint);
  const result = await runAsRank(dist, hint, async () => {
    const backend = await setupBackend(argv.backend);
    await reportAdapter(dist, backend);
    const seed = argv.seed ?? cfg.seed ?? 0;
    const log = dist && !dist.isMain ? new SilentLogSink() : new FileLogSink(workDir);
    const runner = createRunner(cfg, {
      workDir,
      seed,
      log,
      resumeFrom: argv['resume-from'] ?? null,
      autoResume: argv['auto-resume'] ?? false,
      backend,
      dist,
      allowNonfinite: argv['allow-nonfinite'],
    });
    log.info(`config ${config}, seed ${seed}, ${backend} backend${dist ? `, ${dist.worldSize} ranks x samples_per_gpu ${cfg.data.samples_per_gpu}` : ''}`);
    if (dist) await dist.broadcastModule(runner.opts.model.module);
    return runner.run();
  });
  if (dist && dist.rank !== 0) return;
  const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
  console.log(`done: iter ${result.iter}, epoch ${result.epoch}${metrics ? `, ${metrics}` : ''}; logs and checkpoints in ${workDir}`);
}, removeEmptyWorkDir);
