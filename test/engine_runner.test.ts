// The runner end to end on the toy classifier (cpu backend): learning, tensor stability, exact resume,
// NaN guard, checkpoint files and strict loading.
import { existsSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config';
import { CheckpointError, TrainingStopped } from '../core/errors';
import { createRunner } from '../engine/build';
import { loadStateDict, readCheckpoint, serializeCheckpoint } from '../checkpoint';
import type { Hook } from '../engine/hooks/hook';
import { MemoryLogSink } from '../engine/log_writer';
import { ToyNet } from './helpers/toy';

const CFG = 'test/fixtures/configs/toy_cls.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = () => mkdtempSync(join(tmpdir(), 'engine-'));

function snapshot(module: { namedSlots(): [string, { variable: tf.Variable }][] }): Map<string, Float32Array> {
  return new Map(module.namedSlots().map(([n, s]) => [n, Float32Array.from(s.variable.dataSync())]));
}

describe('runner on the toy classifier', () => {
  it('loss decreases, tensor count is flat over 20 iterations, logs and checkpoints are written', async () => {
    const { cfg } = await loadConfig(CFG, ['runner.max_iters=20']);
    const workDir = tmp();
    const log = new MemoryLogSink();
    const counts: number[] = [];
    const losses: number[] = [];
    const probe: Hook = {
      name: 'probe',
      afterIter: (_r, out) => {
        counts.push(tf.memory().numTensors);
        losses.push(out.values.loss_cls);
      },
    };
    const before = tf.memory().numTensors;
    const runner = createRunner(cfg, { workDir, seed: 0, log });
    runner.hooks.push(probe);
    const res = await runner.run();
    expect(res.iter).toBe(20);
    expect(counts).toHaveLength(20);
    // Momentum buffers appear at the first step; from then on nothing may accumulate.
    expect(new Set(counts.slice(1)).size).toBe(1);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.8 * mean(losses.slice(0, 5)));
    // Train logs every 5 iterations, eval at 10 and 20.
    expect(log.records.filter((r) => r.mode === 'train').map((r) => r.global_iter)).toEqual([5, 10, 15, 20]);
    const val = log.records.filter((r) => r.mode === 'val');
    expect(val.map((r) => r.iter)).toEqual([10, 20]);
    expect(log.records[0]).toHaveProperty('lr');
    expect(log.records[0]).toHaveProperty('data_time');
    expect(log.records[0]).toHaveProperty('num_tensors');
    const files = readdirSync(workDir).sort();
    expect(files).toEqual(expect.arrayContaining(['iter_10.safetensors', 'iter_20.safetensors', 'latest.safetensors', 'best_accuracy.safetensors', 'config.json']));
    expect(files.some((f) => f.includes('.tmp-'))).toBe(false);
    expect(readlinkSync(join(workDir, 'latest.safetensors'))).toBe('iter_20.safetensors');
    const ck = readCheckpoint(join(workDir, 'iter_20.safetensors'));
    expect(ck.meta).toMatchObject({ iter: 20, epoch: 2, inner_iter: 4, seed: 0 });
    expect((ck.meta!.config as { model: unknown }).model).toEqual(cfg.model);
    // PyTorch layout: conv weight [out, in, kh, kw], linear [out, in]; momentum buffers alongside.
    expect(ck.stateDict.get('conv1.weight')!.shape).toEqual([8, 3, 3, 3]);
    expect(ck.stateDict.get('fc.weight')!.shape).toEqual([4, 16]);
    expect(ck.stateDict.get('bn1.num_batches_tracked')!.data[0]).toBe(20);
    expect(ck.optimizerState.map(([n, k]) => `${n}.${k}`)).toContain('conv1.weight.momentum_buffer');
    runner.opts.model.module.dispose();
    runner.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('resume is exact: 12 iterations in one run equal 5 (or 10) + resume', async () => {
    const { cfg: adamw } = await loadConfig('test/fixtures/configs/toy_adamw.ts');
    expect(adamw.optimizer).toEqual({ type: 'AdamW', lr: 0.01, weight_decay: 0.05, paramwise_cfg: { norm_decay_mult: 0 } });
    const full = tmp();
    const a = createRunner(adamw, { workDir: full, seed: 3, log: new MemoryLogSink() });
    await a.run();
    const want = snapshot(a.opts.model.module);
    const wantOpt = new Map(a.optimizer.stateEntries().map(([n, k, v]) => [`${n}.${k}`, Float32Array.from(v.dataSync())]));
    for (const from of ['iter_5.safetensors', 'iter_10.safetensors']) {
      const b = createRunner(adamw, { workDir: tmp(), seed: 3, log: new MemoryLogSink(), resumeFrom: join(full, from) });
      expect(b.iter).toBe(from === 'iter_5.safetensors' ? 5 : 10);
      await b.run();
      const got = snapshot(b.opts.model.module);
      for (const [k, v] of want) expect(got.get(k), `${k} after resume from ${from}`).toEqual(v);
      for (const [n, k, v] of b.optimizer.stateEntries()) expect(Float32Array.from(v.dataSync())).toEqual(wantOpt.get(`${n}.${k}`));
      expect(b.optimizer.steps).toBe(12);
      b.opts.model.module.dispose();
      b.dispose();
    }
    // --auto-resume picks latest (iter_12) and has nothing left to do.
    const c = createRunner(adamw, { workDir: full, seed: 3, log: new MemoryLogSink(), autoResume: true });
    expect(c.iter).toBe(12);
    c.opts.model.module.dispose();
    c.dispose();
    a.opts.model.module.dispose();
    a.dispose();
  });

  it('stops on a NaN loss and saves the last good state', async () => {
    const { cfg } = await loadConfig(CFG, ['model.nan_from_iter=4', 'evaluation.interval=100']);
    const workDir = tmp();
    const runner = createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() });
    const err = await runner.run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainingStopped);
    expect((err as Error).message).toMatch(/training stopped at iter 4 \(epoch 1\): loss_cls = NaN.*last good state .* saved to .*nan_guard_iter_3\.safetensors/);
    const path = join(workDir, 'nan_guard_iter_3.safetensors');
    expect(existsSync(path)).toBe(true);
    const ck = readCheckpoint(path);
    expect(ck.meta!.iter).toBe(3);
    for (const [, t] of ck.stateDict) for (const v of t.data) expect(Number.isFinite(v)).toBe(true);
    runner.opts.model.module.dispose();
    runner.dispose();
  });

  it('strict loading lists missing, unexpected and mismatched keys', async () => {
    const src = new ToyNet(8, 4);
    const dst = new ToyNet(4, 4);
    const bytes = await serializeCheckpoint(src, null, { iter: 0, epoch: 0, inner_iter: 0 });
    const dir = tmp();
    const file = join(dir, 'w.safetensors');
    writeFileSync(file, bytes);
    const ck = readCheckpoint(file);
    ck.stateDict.set('extra.weight', ck.stateDict.get('fc.bias')!);
    ck.stateDict.delete('bn2.running_var');
    expect(() => loadStateDict(dst, ck.stateDict, { source: file })).toThrow(CheckpointError);
    try {
      loadStateDict(dst, ck.stateDict, { source: file });
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain(`${file} does not match the model`);
      expect(m).toContain('missing keys: bn2.running_var');
      expect(m).toContain('unexpected keys: extra.weight');
      expect(m).toContain('conv1.weight (checkpoint [8,3,3,3], model [4,3,3,3])');
    }
    expect(() => readCheckpoint(join(dir, 'none.safetensors'))).toThrow(/cannot read checkpoint .*none\.safetensors: ENOENT/);
    src.dispose();
    dst.dispose();
  });
});
