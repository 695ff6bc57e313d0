// Data-parallel training under a real `mpirun -np 2` (Open MPI, cpu backend): equivalence with one
// process on the doubled batch, SyncBN = BN on the concatenated batch, distributed evaluation = the
// single-process one, and a killed rank ending the job with a clear error that --auto-resume recovers.
// Needs Debian's openmpi-bin + libopenmpi-dev (.ci/run installs them); skipped elsewhere unless CI is set.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint';

const hasMpirun = spawnSync('mpirun', ['--version']).status === 0;
if (!hasMpirun && process.env.CI) throw new Error('mpirun not found: CI must install openmpi-bin libopenmpi-dev');

/** Root with `ip netns` (CI and this machine): the two-host test can build its namespaces. */
const canNetns = hasMpirun && process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

const ENV = { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1' };
const CFG = 'test/fixtures/configs/toy_dist.ts';
const tmp = () => mkdtempSync(join(tmpdir(), 'dist-'));

interface Run {
  code: number | null;
  out: string;
}

/** Runs mpirun with `args`; `onStart` gets the child (to kill a rank). Never rejects. */
function mpirun(np: number, args: string[], onStart?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn('mpirun', ['-np', String(np), ...args], { env: ENV });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
    onStart?.(p.pid!);
  });
}

const train = (np: number, workDir: string, extra: string[] = [], onStart?: (pid: number) => void) =>
  mpirun(np, ['tools/train', '--config', CFG, '--launcher', 'mpi', '--backend', 'cpu', '--work-dir', workDir, ...extra], onStart);

/** Largest absolute difference over every tensor of two checkpoints (same keys required). */
function maxDiff(a: string, b: string): number {
  const A = readCheckpoint(a).stateDict;
  const B = readCheckpoint(b).stateDict;
  expect([...A.keys()].sort()).toEqual([...B.keys()].sort());
  let m = 0;
  for (const [k, t] of A) {
    const u = B.get(k)!;
    for (let i = 0; i < t.data.length; i++) m = Math.max(m, Math.abs(Number(t.data[i]) - Number(u.data[i])));
  }
  return m;
}

/** The pid of MPI rank `rank` among the processes started under `root` (reads /proc/<pid>/environ). */
function findRank(root: number, rank: number): number | null {
  const kids = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const stack = kids(root);
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (env.includes(`OMPI_COMM_WORLD_RANK=${rank}`) && cmd.includes('node')) return pid;
    } catch {
      /* gone */
    }
    stack.push(...kids(pid));
  }
  return null;
}

describe.skipIf(!hasMpirun)('mpirun -np 2 on the cpu backend', () => {
  let twoRanks = '';

  it('2 ranks x 4 images train to the same weights as 1 rank x 8 images (SyncBN, 6 iterations)', async () => {
    twoRanks = tmp();
    const one = tmp();
    const a = await train(2, twoRanks);
    expect(a.code, a.out).toBe(0);
    const b = await train(1, one, ['--cfg-options', 'data.samples_per_gpu=8']);
    expect(b.code, b.out).toBe(0);
    // Float32 sums in a different order (per-rank partial sums, then the all-reduce): 1e-5 absolute.
    expect(maxDiff(join(twoRanks, 'iter_6.safetensors'), join(one, 'iter_6.safetensors'))).toBeLessThan(1e-5);
    // Rank 0 alone writes: one log pair, and the metrics of the distributed evaluation match.
    expect(readdirSync(twoRanks).filter((f) => f.endsWith('.log'))).toHaveLength(1);
    const meta = (d: string) => readCheckpoint(join(d, 'iter_6.safetensors')).meta!;
    expect(meta(twoRanks).metrics).toEqual(meta(one).metrics);
    expect(a.out).toMatch(/MPI job of 2 ranks \(openmpi/);
  }, 240_000);

  it('tools/eval --launcher mpi over 2 ranks prints the single-process metrics', async () => {
    expect(twoRanks, 'needs the first test').not.toBe('');
    const args = ['--config', CFG, '--checkpoint', join(twoRanks, 'iter_6.safetensors'), '--backend', 'cpu'];
    const d = await mpirun(2, ['tools/eval', ...args, '--launcher', 'mpi']);
    expect(d.code, d.out).toBe(0);
    const s = spawnSync('tools/eval', args, { env: ENV, encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
    const acc = (out: string) => out.split('\n').filter((l) => l.startsWith('accuracy: '));
    expect(acc(d.out)).toHaveLength(1); // printed by rank 0 only
    expect(acc(d.out)).toEqual(acc(s.stdout));
  }, 120_000);

  it('SyncBN over 2 ranks equals BatchNorm on the concatenated batch (forward, backward, running stats)', async () => {
    const r = await mpirun(2, ['node', '--import', 'tsx', 'test/dist/sync_bn_check.ts']);
    expect(r.code, r.out).toBe(0);
    const lines = r.out.split('\n').filter((l) => l.startsWith('SYNCBN '));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const d = JSON.parse(l.slice(7)) as Record<string, number>;
      for (const k of ['y', 'dx', 'dwb', 'running_var']) expect(d[k], `${k} on rank ${d.rank}`).toBeLessThan(1e-5);
    }
  }, 120_000);

  it('distributed evaluation gathers results in dataset order (33 samples, padded) and gives the single-process metrics', async () => {
    const r = await mpirun(2, ['node', '--import', 'tsx', 'test/dist/eval_check.ts']);
    expect(r.code, r.out).toBe(0);
    const line = r.out.split('\n').find((l) => l.startsWith('EVAL '))!;
    const d = JSON.parse(line.slice(5)) as { gathered: number[]; single: number[]; metrics: object; singleMetrics: object };
    expect(d.gathered).toHaveLength(33);
    expect(d.gathered).toEqual(d.single);
    expect(d.metrics).toEqual(d.singleMetrics);
  }, 120_000);

  it.skipIf(!canNetns)('2 ranks on 2 "hosts" (network namespaces, TCP between them, shared work dir) train as on one host', async () => {
    expect(twoRanks, 'needs the first test').not.toBe('');
    const dir = tmp();
    const r = await new Promise<Run>((resolve) => {
      const p = spawn('test/dist/two_hosts.sh', [dir, '--config', CFG], { env: ENV });
      let out = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (out += d));
      p.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    // Open MPI placed one rank per node: each is local rank 0 of 1.
    expect(r.out).toMatch(/rank 0\/2: host .*, local rank 0\/1/);
    expect(r.out).toMatch(/rank 1\/2: host .*, local rank 0\/1/);
    expect(maxDiff(join(dir, 'iter_6.safetensors'), join(twoRanks, 'iter_6.safetensors'))).toBeLessThan(1e-5);
  }, 240_000);

  it('killing one rank ends the job with a clear error on the others; --auto-resume continues to the same weights', async () => {
    expect(twoRanks, 'needs the first test').not.toBe('');
    const dir = tmp();
    let killed = false;
    const r = await train(2, dir, ['--cfg-options', 'runner.max_iters=60'], (root) => {
      const poll = setInterval(() => {
        if (!existsSync(join(dir, 'iter_3.safetensors'))) return;
        const pid = findRank(root, 1);
        if (pid === null) return;
        clearInterval(poll);
        process.kill(pid, 'SIGKILL');
        killed = true;
      }, 50);
    });
    expect(killed).toBe(true);
    expect(r.code).not.toBe(0);
    // Open MPI names the dead rank; the surviving rank says why it stops and how to continue.
    expect(r.out).toMatch(/rank 1|signal 9|Killed/i);
    // Blocked in a SyncBN all-reduce it sees the dead peer itself; elsewhere mpirun's SIGTERM tells it.
    expect(r.out).toMatch(/error \(rank 0\/2\): (ended by SIGTERM from the launcher: another rank failed|rank 1 \(pid \d+, this host\) ended during an all-reduce)[^]*continue with --auto-resume/);
    const resumed = await train(2, dir, ['--auto-resume']);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(/resumed from .*iter_\d+\.safetensors/);
    expect(maxDiff(join(dir, 'iter_6.safetensors'), join(twoRanks, 'iter_6.safetensors'))).toBeLessThan(1e-6);
  }, 300_000);
});
