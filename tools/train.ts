// tools/train: trains the model of a config file.
import { basename, extname, join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadConfig } from '../core/config';
import { createRunner } from '../engine/build';
import { LAUNCHERS, SilentLogSink, reportAdapter, runAsRank, startJob } from '../engine/dist/launch';
import { FileLogSink } from '../engine/log_writer';
import { BACKEND_CHOICES, failLine, importRegistrations, runTool, setupBackend } from './lib/cli';

runTool(async () => {
  const argv = await yargs(hideBin(process.argv))
    .scriptName('tools/train')
    .usage('$0 --config <file> [options]\n\nTrains the model of a config file; logs and checkpoints go to the work dir.')
    .option('config', { type: 'string', demandOption: true, describe: 'config file (TypeScript, default export defineConfig({...}))' })
    .option('work-dir', { type: 'string', describe: 'output folder (default: cfg.work_dir, else work_dirs/<config name>)' })
    .option('resume-from', { type: 'string', describe: 'checkpoint to continue from (weights, optimizer, schedule, iteration, RNG)' })
    .option('auto-resume', { type: 'boolean', default: false, describe: 'continue from the latest checkpoint in the work dir if there is one' })
    .option('seed', { type: 'number', describe: 'seed for data order, augmentation and initialisation (default: cfg.seed, else 0)' })
    .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as const, describe: 'compute backend' })
    .option('cfg-options', { type: 'string', array: true, default: [] as string[], describe: 'overrides key.path=value (numbers, booleans, lists, None parsed)' })
    .option('launcher', { choices: LAUNCHERS, default: 'none' as const, describe: 'none: one process; mpi: one rank of `mpirun -np N tools/train ...` (see docs/distributed.md)' })
    .conflicts('resume-from', 'auto-resume')
    .strict()
    .fail(failLine)
    .help()
    .parseAsync();

  await importRegistrations();
  const { cfg } = await loadConfig(argv.config, argv['cfg-options']);
  const workDir = argv['work-dir'] ?? cfg.work_dir ?? join('work_dirs', basename(argv.config, extname(argv.config)));
  const hint = () => `the last good checkpoint is ${join(workDir, 'latest.safetensors')}; continue with --auto-resume`;
  const dist = await startJob(argv.launcher, argv.backend, hint);
  const result = await runAsRank(dist, hint, async () => {
    const backend = await setupBackend(argv.backend);
    await reportAdapter(dist, backend);
    const seed = argv.seed ?? cfg.seed ?? 0;
    const log = dist && !dist.isMain ? new SilentLogSink() : new FileLogSink(workDir);
    log.info(`config ${argv.config}, seed ${seed}, ${backend} backend${dist ? `, ${dist.worldSize} ranks x samples_per_gpu ${cfg.data.samples_per_gpu}` : ''}`);
    const runner = createRunner(cfg, { workDir, seed, log, resumeFrom: argv['resume-from'] ?? null, autoResume: argv['auto-resume'], backend, dist });
    if (dist) await dist.broadcastModule(runner.opts.model.module);
    return runner.run();
  });
  if (dist && dist.rank !== 0) return;
  const metrics = Object.entries(result.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ');
  console.log(`done: iter ${result.iter}, epoch ${result.epoch}${metrics ? `, ${metrics}` : ''}; logs and checkpoints in ${workDir}`);
});
