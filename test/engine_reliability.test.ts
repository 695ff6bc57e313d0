// Issue 14 fault kinds on the toy classifier (cpu): tensor leak on resume and the guard's baseline,
// the NaN guard's saved state, non-finite checkpoints, file-system failures (ENOSPC, EACCES injected
// through core/fsio), config.json and stale temp files, metrics checked before training, truncated
// .pth files and COCO annotations without bbox.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config';
import { loadStateDict as loadNnStateDict, parseCheckpoint, readCheckpoint, stateDict } from '../checkpoint';
import { CheckpointError, TrainingStopped, UserError } from '../core/errors';
import { s } from '../core/config_schema';
import { EVALUATORS } from '../core/registry';
import { errnoError, FileError, injectFsFault } from '../core/fsio';
import { createRunner } from '../engine/build';
import { removeStaleTempFiles } from '../engine/checkpoint';
import { MemoryLogSink } from '../engine/log_writer';
import { writeSafetensors } from '../checkpoint/formats/safetensors';
import { buildDataset } from '../datasets/build';
import { makeZip, PickleWriter } from './helpers/torch_zip';
import { ToyNet } from './helpers/toy';
import { decodeImage } from '../datasets/io/image';

const CFG = 'test/fixtures/configs/toy_cls.ts';
const tmp = () => mkdtempSync(join(tmpdir(), 'reliab-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => injectFsFault(null));

async function error(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

function sameTensors(a: Map<string, { data: ArrayLike<number> }>, b: Map<string, { data: ArrayLike<number> }>): string[] {
  const diff: string[] = [];
  for (const [k, t] of a) if (!b.has(k) || !tf.util.arraysEqual(Array.from(t.data), Array.from(b.get(k)!.data))) diff.push(k);
  return diff;
}

describe('tensor count on resume (item 7)', () => {
  it('a resumed run holds as many tensors as a fresh run at the same point', async () => {
    const { cfg } = await loadConfig('test/fixtures/configs/toy_adamw.ts', ['evaluation.interval=100']);
    const dir = tmp();
    const before = tf.memory().numTensors;
    const fresh = createRunner({ ...cfg, runner: { type: 'IterBasedRunner', max_iters: 6 } }, { workDir: dir, seed: 0, log: new MemoryLogSink() });
    await fresh.run();
    const freshCount = tf.memory().numTensors - before;
    fresh.opts.model.module.dispose();
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const resumed = createRunner({ ...cfg, runner: { type: 'IterBasedRunner', max_iters: 6 } }, { workDir: tmp(), seed: 0, log: new MemoryLogSink(), resumeFrom: join(dir, 'iter_5.safetensors') });
    await resumed.run();
    expect(tf.memory().numTensors - before).toBe(freshCount);
    resumed.opts.model.module.dispose();
    resumed.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the tensor guard counts from the model and optimizer, so a leak at load time stops the run', async () => {
    const { cfg } = await loadConfig(CFG, ['evaluation.interval=100', 'runner.max_iters=3']);
    const runner = createRunner(cfg, { workDir: tmp(), seed: 0, log: new MemoryLogSink() });
    // What the old Optimizer.loadState did: clones kept outside any tidy, after the runner was built.
    const leaked = Array.from({ length: 100 }, () => tf.zeros([2]));
    const e = await error(runner.run());
    expect(e).toBeInstanceOf(TrainingStopped);
    expect(e.message).toMatch(/live tensors after the first iteration, but the model and optimizer own \d+ .*leaks while resuming/);
    tf.dispose(leaked);
    runner.opts.model.module.dispose();
    runner.dispose();
  });
});

describe('NaN guard (item 8)', () => {
  it('saves the finite state from before the failing iteration, BN statistics and optimizer included', async () => {
    const { cfg } = await loadConfig(CFG, ['model.nan_input_from_iter=4', 'evaluation.interval=100', 'checkpoint_config.interval=1']);
    const workDir = tmp();
    const runner = createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() });
    const e = await error(runner.run());
    expect(e).toBeInstanceOf(TrainingStopped);
    expect(e.message).toMatch(/training stopped at iter 4 .*saved to .*nan_guard_iter_3\.safetensors/);
    const guard = readCheckpoint(join(workDir, 'nan_guard_iter_3.safetensors'));
    const regular = readCheckpoint(join(workDir, 'iter_3.safetensors'));
    for (const [k, t] of guard.stateDict) for (const v of t.data) expect(Number.isFinite(v), k).toBe(true);
    // iter_3 is the state after iteration 3, i.e. before the failing iteration 4.
    expect(sameTensors(guard.stateDict, regular.stateDict)).toEqual([]);
    const opt = (c: typeof guard) => new Map(c.optimizerState.map(([n, k, t]) => [`${n}.${k}`, t]));
    expect(sameTensors(opt(guard), opt(regular))).toEqual([]);
    expect(guard.meta).toMatchObject({ iter: 3, inner_iter: 3 });
    runner.opts.model.module.dispose();
    runner.dispose();
  });
});

describe('evaluation failing mid-run (newcomer fault 2)', () => {
  it('the trained state is saved before the evaluation error is reported', async () => {
    if (!EVALUATORS.has('FailingEvaluator')) {
      EVALUATORS.register('FailingEvaluator', {
        schema: s.object({ metric: s.array(s.string()).optional() }),
        build: () => ({
          reset() {},
          process() {},
          evaluate(): never {
            throw new UserError('val.json: the ground truth went missing');
          },
        }),
        doc: 'test-only: fails at evaluate()',
      });
    }
    const { cfg } = await loadConfig(CFG, ['runner.max_iters=4', 'evaluation.interval=2', 'checkpoint_config.interval=100']);
    const workDir = tmp();
    const log = new MemoryLogSink();
    const runner = createRunner({ ...cfg, evaluation: { ...cfg.evaluation!, evaluator: 'FailingEvaluator' } } as typeof cfg, { workDir, seed: 0, log });
    const e = await error(runner.run());
    expect(e.message).toBe('val.json: the ground truth went missing');
    expect(readlinkSync(join(workDir, 'latest.safetensors'))).toBe('iter_2.safetensors');
    expect(readCheckpoint(join(workDir, 'iter_2.safetensors')).meta!.iter).toBe(2);
    expect(log.lines.join('\n')).toMatch(/evaluation failed at iter 2; the trained state is saved to .*iter_2\.safetensors/);
    runner.opts.model.module.dispose();
    runner.dispose();
  });
});

describe('checkpoints with NaN/Inf (item 4)', () => {
  it('are refused for resume naming the tensor, unless allowNonfinite', async () => {
    const { cfg } = await loadConfig(CFG, ['evaluation.interval=100', 'runner.max_iters=2', 'checkpoint_config.interval=2']);
    const dir = tmp();
    const a = createRunner(cfg, { workDir: dir, seed: 0, log: new MemoryLogSink() });
    await a.run();
    a.opts.model.module.dispose();
    a.dispose();
    const path = join(dir, 'iter_2.safetensors');
    const ck = readCheckpoint(path);
    const bytes = readFileSync(path);
    // Re-write the file with one NaN in bn1.running_mean.
    const tensors: [string, { shape: number[]; data: Float32Array | Int32Array | Uint8Array }][] = [];
    for (const [k, t] of ck.stateDict) tensors.push([`state_dict.${k}`, { shape: t.shape, data: t.data as Float32Array }]);
    for (const [n, k, t] of ck.optimizerState) tensors.push([`optimizer.state.${n}.${k}`, { shape: t.shape, data: t.data as Float32Array }]);
    (tensors.find(([k]) => k === 'state_dict.bn1.running_mean')![1].data as Float32Array)[1] = NaN;
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, writeSafetensors(tensors, { format: 'tinyvim-dense/checkpoint@1', meta: JSON.stringify(ck.meta) }));
    expect(bytes.length).toBeGreaterThan(0);
    const refuse = () => createRunner({ ...cfg, runner: { type: 'IterBasedRunner', max_iters: 3 } }, { workDir: tmp(), seed: 0, log: new MemoryLogSink(), resumeFrom: bad });
    expect(refuse).toThrow(CheckpointError);
    expect(refuse).toThrow(/bad\.safetensors: 1 tensor\(s\) hold NaN\/Inf values \(first: bn1\.running_mean\).*--allow-nonfinite/);
    const ok = createRunner({ ...cfg, runner: { type: 'IterBasedRunner', max_iters: 3 } }, { workDir: tmp(), seed: 0, log: new MemoryLogSink(), resumeFrom: bad, allowNonfinite: true });
    expect(ok.iter).toBe(2);
    ok.opts.model.module.dispose();
    ok.dispose();
  });
});

describe('file-system failures (items 3 and 6)', () => {
  it('ENOSPC while writing a checkpoint: one line naming the file, no partial file, latest still the last complete one', async () => {
    const { cfg } = await loadConfig(CFG, ['evaluation.interval=100', 'runner.max_iters=6', 'checkpoint_config.interval=2']);
    const workDir = tmp();
    const runner = createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() });
    injectFsFault((op, path) => (op === 'write' && path.includes('iter_4') ? errnoError('ENOSPC', 'write', path) : null));
    const e = await error(runner.run());
    expect(e).toBeInstanceOf(FileError);
    expect(e.message).toMatch(/^\S*iter_4\.safetensors: cannot write the file \(ENOSPC: no space left on the device; free some space or choose a --work-dir on another disk\)$/);
    expect(readdirSync(workDir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(existsSync(join(workDir, 'iter_4.safetensors'))).toBe(false);
    expect(readlinkSync(join(workDir, 'latest.safetensors'))).toBe('iter_2.safetensors');
    runner.opts.model.module.dispose();
    runner.dispose();
  });

  it('a read-only work dir (EACCES) is reported before training, naming the file', async () => {
    const { cfg } = await loadConfig(CFG);
    const workDir = tmp();
    injectFsFault((op, path) => (path.startsWith(workDir) && op !== 'mkdir' ? errnoError('EACCES', op, path) : null));
    const e = (() => {
      try {
        createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() });
      } catch (err) {
        return err as Error;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(FileError);
    expect(e!.message).toMatch(/config\.json: cannot write the file \(EACCES: permission denied; choose a writable --work-dir/);
  });

  it('config.json is written only after validation and never over another run config', async () => {
    const { cfg } = await loadConfig(CFG, ['runner.max_iters=1', 'evaluation.interval=100']);
    const workDir = tmp();
    const a = createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() });
    a.opts.model.module.dispose();
    a.dispose();
    const first = readFileSync(join(workDir, 'config.json'), 'utf8');
    // A run refused in validation (unknown metric) leaves config.json alone.
    const { cfg: bad } = await loadConfig(CFG, ['evaluation.metric=mAP']);
    expect(() => createRunner(bad, { workDir, seed: 0, log: new MemoryLogSink() })).toThrow(/evaluation\.metric 'mAP' is not supported for ToyDataset/);
    expect(readFileSync(join(workDir, 'config.json'), 'utf8')).toBe(first);
    // A different run in the same dir keeps the old config under a timestamped name.
    const { cfg: other } = await loadConfig(CFG, ['runner.max_iters=2', 'evaluation.interval=100']);
    const log = new MemoryLogSink();
    const b = createRunner(other, { workDir, seed: 0, log });
    b.opts.model.module.dispose();
    b.dispose();
    const kept = readdirSync(workDir).filter((f) => /^config_\d{8}_\d{6}(_\d+)?\.json$/.test(f));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(workDir, kept[0]), 'utf8')).toBe(first);
    expect(JSON.parse(readFileSync(join(workDir, 'config.json'), 'utf8')).runner.max_iters).toBe(2);
    expect(log.lines.join('\n')).toMatch(/kept it as .*config_/);
  });

  it('a refused run does not create its work dir', async () => {
    const { cfg: bad } = await loadConfig(CFG, ['evaluation.metric=mAP']);
    const workDir = join(tmp(), 'new_run');
    expect(() => createRunner(bad, { workDir, seed: 0, log: new MemoryLogSink() })).toThrow(UserError);
    expect(existsSync(workDir)).toBe(false);
  });

  it('stale temp files of dead processes are removed at start; those of live processes are kept', async () => {
    const workDir = tmp();
    // pid 2^22 + 1 is above Linux's pid_max default ceiling (4194304), so no process has it.
    const dead = join(workDir, `.iter_4.safetensors.tmp-${2 ** 22 + 1}`);
    const live = join(workDir, `.iter_6.safetensors.tmp-${process.ppid}`);
    writeFileSync(dead, 'partial');
    writeFileSync(live, 'being written');
    expect(removeStaleTempFiles(workDir)).toEqual([dead]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    // createRunner does it and says so.
    writeFileSync(dead, 'partial');
    const { cfg } = await loadConfig(CFG);
    const log = new MemoryLogSink();
    const r = createRunner(cfg, { workDir, seed: 0, log });
    expect(existsSync(dead)).toBe(false);
    expect(log.lines.join('\n')).toMatch(/removed 1 partial file\(s\) left by killed runs: \.iter_4\.safetensors\.tmp-/);
    r.opts.model.module.dispose();
    r.dispose();
  });
});

describe('bad input files (item 3)', () => {
  it('a truncated .pth is one CheckpointError naming the file', () => {
    const pkl = new PickleWriter().emptyDict().str('w').tensor('0', 'FloatStorage', 4, 0, [4], [1]).setitem().stop();
    const whole = makeZip([
      ['archive/data.pkl', pkl],
      ['archive/data/0', new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer)],
      ['archive/version', new TextEncoder().encode('3\n')],
    ]);
    expect(parseCheckpoint(whole, 'ok.pth').stateDict.get('w')!.shape).toEqual([4]);
    for (const cut of [whole.length - 10, Math.floor(whole.length / 2), 40]) {
      const f = () => parseCheckpoint(whole.subarray(0, cut), 'ckpt/backbone.pth');
      expect(f).toThrow(CheckpointError);
      expect(f).toThrow(/^ckpt\/backbone\.pth: truncated or corrupt torch checkpoint \(.*\); download or save it again$/);
    }
  });

  it('a truncated JPEG and a shape mismatch are one line, file first (item 5)', async () => {
    const sharp = (await import('sharp')).default;
    const jpg = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
    const file = join(tmp(), 'cut.jpg');
    writeFileSync(file, jpg.subarray(0, Math.floor(jpg.length / 2)));
    const e = await decodeImage(file).then(
      () => null,
      (err: Error) => err,
    );
    expect(e).toBeInstanceOf(UserError);
    expect(e!.message).toMatch(/^\S*cut\.jpg: corrupt or unsupported image \(/);
    expect(e!.message).not.toContain('\n');
    const a = new ToyNet(8, 4);
    const b = new ToyNet(4, 4);
    const sd = stateDict(a);
    expect(() => loadNnStateDict(b, sd, { source: 'w.safetensors' })).toThrow(/^w\.safetensors does not match the model: shape mismatches: conv1\.weight \(checkpoint \[8,3,3,3\], model \[4,3,3,3\]\)/);
    try {
      loadNnStateDict(b, sd, { source: 'w.safetensors' });
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
    a.dispose();
    b.dispose();
  });

  it('a COCO annotation without bbox names the annotation and the file', async () => {
    const root = tmp();
    mkdirSync(join(root, 'train'));
    const ann = join(root, 'ann.json');
    writeFileSync(
      ann,
      JSON.stringify({
        images: [{ id: 1, file_name: 'a.jpg', width: 64, height: 64 }],
        annotations: [{ id: 7, image_id: 1, category_id: 1, area: 10, iscrowd: 0, segmentation: [[0, 0, 5, 0, 5, 5]] }],
        categories: [{ id: 1, name: 'x' }],
      }),
    );
    await import('../datasets/register');
    expect(() => buildDataset({ type: 'CocoDataset', ann_file: ann, img_prefix: join(root, 'train'), pipeline: [] } as never)).toThrow(
      /ann\.json: annotation 7 \(image_id 1\) has no valid "bbox" \(expected \[x, y, width, height\]/,
    );
  });
});
