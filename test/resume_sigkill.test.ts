// tools/train killed with SIGKILL at random moments (after an iteration, so during the checkpoint
// write or the next iteration), then restarted with --auto-resume until it finishes: the final weights
// equal an uninterrupted run's bit for bit, the logs cover every iteration and no partial file is left.
// Tiny Mask R-CNN and Semantic FPN (with Dropout2d) on the cpu backend (issue 14).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../core/rng';
import { readCheckpoint } from '../checkpoint';

const MAX_ITERS = 4;
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
let coco = '';
let ade = '';

beforeAll(() => {
  coco = join(tmp('kill-data-'), 'coco');
  ade = join(tmp('kill-data-'), 'ade');
  for (const [kind, out] of [
    ['shapes-coco', coco],
    ['shapes-ade', ade],
  ]) {
    const r = spawnSync('tools/make_dataset', [kind, '--out', out, '--train', '4', '--val', '2', '--size', '64', '--seed', '0'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
}, 120_000);

function trainArgs(config: string, workDir: string, dataOption: string): string[] {
  return [config, '--work-dir', workDir, '--backend', 'cpu', '--auto-resume', '--cfg-options', dataOption, `runner.max_iters=${MAX_ITERS}`];
}

/** Runs tools/train; with `killAfter`, sends SIGKILL `delayMs` after the killAfter-th logged iteration. */
function runTrain(args: string[], killAfter: number | null, delayMs = 0): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p: ChildProcess = spawn('tools/train', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let seen = 0;
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const n = (out.match(/^Iter \[\d+\/\d+\]/gm) ?? []).length;
      if (killAfter !== null && seen < killAfter && n >= killAfter) setTimeout(() => p.kill('SIGKILL'), delayMs);
      seen = n;
    });
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

async function expectKillsResumeExactly(config: string, dataOption: (root: string) => string, root: () => string, seed: number): Promise<void> {
  const reference = tmp('kill-ref-');
  const ref = await runTrain(trainArgs(config, reference, dataOption(root())), null);
  expect(ref.code, ref.err).toBe(0);

  const workDir = tmp('kill-run-');
  const rng = new Rng(seed);
  let kills = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    // Each restart is killed after its first logged iteration, 0-400 ms later; the last one finishes.
    const r = await runTrain(trainArgs(config, workDir, dataOption(root())), attempt < 3 ? 1 : null, rng.int(0, 400));
    if (r.signal === 'SIGKILL') {
      kills++;
      continue;
    }
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`done: iter ${MAX_ITERS}`));
    break;
  }
  expect(kills).toBeGreaterThanOrEqual(1);
  const want = readCheckpoint(join(reference, `iter_${MAX_ITERS}.safetensors`));
  const got = readCheckpoint(join(workDir, `iter_${MAX_ITERS}.safetensors`));
  const differing = [...want.stateDict].filter(([k, t]) => !got.stateDict.has(k) || Buffer.compare(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength), Buffer.from(got.stateDict.get(k)!.data.buffer, got.stateDict.get(k)!.data.byteOffset, got.stateDict.get(k)!.data.byteLength)) !== 0).map(([k]) => k);
  expect(differing, 'weights that differ from the uninterrupted run').toEqual([]);
  expect(got.meta!.rng).toEqual(want.meta!.rng);
  // Logs: every iteration appears in the JSON logs of the killed and resumed runs together.
  const iters = new Set<number>();
  for (const f of readdirSync(workDir).filter((f) => f.endsWith('.log.json'))) {
    for (const line of readFileSync(join(workDir, f), 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { mode: string; global_iter: number };
      if (r.mode === 'train') iters.add(r.global_iter);
    }
  }
  expect([...iters].sort((a, b) => a - b)).toEqual(Array.from({ length: MAX_ITERS }, (_, i) => i + 1));
  expect(readdirSync(workDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe('SIGKILL at random moments, then --auto-resume (cpu)', () => {
  it('Mask R-CNN (tiny) ends bit-identical to an uninterrupted run', async () => {
    await expectKillsResumeExactly('test/fixtures/configs/tiny_mask_rcnn_shapes.ts', (r) => `data.train.data_root=${r}`, () => coco, 1);
  }, 1_200_000);

  it('Semantic FPN (tiny, Dropout2d 0.1) ends bit-identical to an uninterrupted run', async () => {
    await expectKillsResumeExactly('test/fixtures/configs/tiny_sem_fpn_shapes.ts', (r) => `data.train.dataset.data_root=${r}`, () => ade, 2);
  }, 1_200_000);
});
