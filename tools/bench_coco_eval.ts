// Speed and memory of COCOeval on the val2017-sized synthetic problem, against pycocotools' figures.
//
//   tools/bench_coco_eval [--dir work_dirs/cocobench] [--generate PATH/gen_coco_bench.py] [--iou-type bbox|segm|both] [--runs 1]
//
// The problem comes from the project's shared gen_coco_bench.py (--seed 0; not part of this repository);
// --generate runs the given script when the files are missing. Each run is its own process (so peak RSS
// is per run); the parent prints the phase times, peak RSS, and checks the 12 stats against pycocotools'
// figures (pycocotools_speed.md, 4 decimals, embedded below).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { COCO, COCOeval, EvalInputError, type IouType } from '../evaluation';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..');

/** pycocotools on the same machine class (notes: sum of phases, median of 3; peak RSS). */
const PYCOCOTOOLS = { bbox: { seconds: 47.7, peakMB: 1747 }, segm: { seconds: 57.1, peakMB: 2028 } };

interface WorkerReport {
  iouType: IouType;
  phases: Record<string, number>;
  total: number;
  /** User + system CPU seconds of the worker (less sensitive than wall time to other load). */
  cpu: number;
  peakRssMB: number;
  stats: number[];
}

function worker(dir: string, iouType: IouType): void {
  const phases: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = (now - t) / 1000;
    t = now;
  };
  const gt = new COCO(join(dir, 'instances_bench.json'));
  lap('load_gt');
  const dt = gt.loadRes(join(dir, `results_${iouType}.json`));
  lap('loadRes');
  const E = new COCOeval(gt, dt, iouType);
  E.evaluate();
  lap('evaluate');
  E.accumulate();
  lap('accumulate');
  E.summarize();
  lap('summarize');
  const total = Object.values(phases).reduce((a, b) => a + b, 0);
  // resourceUsage().maxRSS is in kilobytes.
  const cu = process.cpuUsage();
  const report: WorkerReport = { iouType, phases, total, cpu: (cu.user + cu.system) / 1e6, peakRssMB: process.resourceUsage().maxRSS / 1024, stats: E.stats };
  process.stdout.write('REPORT ' + JSON.stringify(report) + '\n');
}

/**
 * The 12 stats pycocotools gives on this problem (the shared notes pycocotools_speed.md, 4 decimals as
 * the notes give them; copied here so the tool reads nothing outside the repository).
 */
function expectedStats(): Record<IouType, number[]> {
  return {
    bbox: [0.136, 0.3273, 0.0955, 0.1354, 0.1612, 0.1405, 0.0803, 0.3127, 0.4208, 0.4101, 0.4196, 0.4398],
    segm: [0.0996, 0.2919, 0.0462, 0.0794, 0.1311, 0.1281, 0.0621, 0.2418, 0.3264, 0.2716, 0.3539, 0.3797],
  };
}

function ensureData(dir: string, generator: string | undefined): void {
  const files = ['instances_bench.json', 'results_bbox.json', 'results_segm.json'];
  if (files.every((f) => existsSync(join(dir, f)))) return;
  if (!generator) throw new EvalInputError(`${dir}: benchmark files missing (${files.join(', ')}); pass --generate PATH/gen_coco_bench.py`);
  const gen = resolve(generator);
  process.stderr.write(`generating the benchmark problem with ${gen} ...\n`);
  const r = spawnSync('python3', [gen, '--seed', '0', '--out', dir], { stdio: 'inherit' });
  if (r.status !== 0) throw new EvalInputError(`${gen} failed (exit ${r.status}); it needs python3 with numpy`);
}

function main(): void {
  const argv = yargs(hideBin(process.argv))
    .scriptName('bench_coco_eval')
    .option('dir', { type: 'string', default: join(REPO, 'work_dirs', 'cocobench'), describe: 'benchmark data folder' })
    .option('generate', { type: 'string', describe: 'path of gen_coco_bench.py: generate the data if missing (python3 + numpy)' })
    .option('iou-type', { choices: ['bbox', 'segm', 'both'] as const, default: 'both' as const })
    .option('runs', { type: 'number', default: 1, describe: 'runs per type (the median is reported)' })
    .option('worker', { type: 'boolean', default: false, hidden: true })
    .strict()
    .help()
    .fail((msg, err) => {
      process.stderr.write(`bench_coco_eval: error: ${(msg ?? err?.message ?? '').replace(/\s*\n\s*/g, ' ')}\n`);
      process.exit(2);
    })
    .parseSync();
  const dir = resolve(argv.dir);
  if (argv.worker) {
    worker(dir, argv['iou-type'] as IouType);
    return;
  }
  ensureData(dir, argv.generate);
  const expected = expectedStats();
  const types: IouType[] = argv['iou-type'] === 'both' ? ['bbox', 'segm'] : [argv['iou-type']];
  let ok = true;
  for (const type of types) {
    const reports: WorkerReport[] = [];
    for (let r = 0; r < argv.runs; r++) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--worker', '--dir', dir, '--iou-type', type], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const line = child.stdout.split('\n').find((l) => l.startsWith('REPORT '));
      if (child.status !== 0 || !line) throw new EvalInputError(`${type} worker failed: ${child.stderr.trim().split('\n').pop()}`);
      reports.push(JSON.parse(line.slice(7)) as WorkerReport);
    }
    reports.sort((a, b) => a.total - b.total);
    const med = reports[Math.floor(reports.length / 2)];
    const ref = PYCOCOTOOLS[type];
    const phases = Object.entries(med.phases)
      .map(([k, v]) => `${k} ${v.toFixed(2)}s`)
      .join(', ');
    const statsOk = med.stats.every((s, i) => Math.abs(Math.round(s * 1e4) / 1e4 - expected[type][i]) < 1e-9);
    ok &&= statsOk;
    process.stdout.write(
      `${type}: ${med.total.toFixed(2)} s (${phases}); runs ${reports.map((r) => r.total.toFixed(2)).join('/')} s; ` +
        `CPU ${med.cpu.toFixed(2)} s; load average ${loadavg()[0].toFixed(2)}; ` +
        `peak RSS ${med.peakRssMB.toFixed(0)} MB\n` +
        `  pycocotools ${ref.seconds} s, ${ref.peakMB} MB -> ${(ref.seconds / med.total).toFixed(1)}x faster, ` +
        `${((100 * med.peakRssMB) / ref.peakMB).toFixed(0)}% of its memory\n` +
        `  stats ${statsOk ? 'match' : 'DIFFER FROM'} the notes: [${med.stats.map((s) => s.toFixed(4)).join(', ')}]\n`,
    );
    if (!statsOk) process.stdout.write(`  expected [${expected[type].map((s) => s.toFixed(4)).join(', ')}]\n`);
  }
  if (!ok) process.exitCode = 1;
}

try {
  main();
} catch (e) {
  if (e instanceof EvalInputError) {
    process.stderr.write(`bench_coco_eval: error: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
