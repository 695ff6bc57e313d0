// Exact resume for every config family we ship (issue 14, item 1): K+M iterations in one run give
// bit-identical weights, optimizer state and random-stream position to K iterations, a resume from
// the K checkpoint and M more. Detector and segmentor, demo and recipe heads, at small size on the
// wasm backend (deterministic like cpu, and fast enough for TinyViM; test/resume_sigkill.test.ts
// covers the cpu backend with tiny backbones).
// The Semantic FPN configs keep their Dropout2d (ratio 0.1), whose masks must resume exactly.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels } from '../ops/wasm_grad_kernels';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import '../backbones';
import '../datasets/register';
import '../models';
import type { Config } from '../core/config_root';
import { createRunner } from '../engine/build';
import { MemoryLogSink } from '../engine/log_writer';
import type { Runner } from '../engine/runner';
import { smallAde, smallCoco, smallConfig } from './helpers/small_configs';

beforeAll(async () => {
  registerWasmGradKernels();
  await tf.setBackend('wasm');
});

const tmp = () => mkdtempSync(join(tmpdir(), 'resume-exact-'));

function state(r: Runner): Map<string, Float32Array | Int32Array> {
  const out = new Map<string, Float32Array | Int32Array>();
  for (const [n, s] of r.opts.model.module.namedSlots()) out.set(n, s.variable.dataSync() as Float32Array);
  for (const [n, k, v] of r.optimizer.stateEntries()) out.set(`optimizer.${n}.${k}`, v.dataSync() as Float32Array);
  return out;
}

function disposeRunner(r: Runner): void {
  r.opts.model.module.dispose();
  r.dispose();
}

/** Runs K+M in one go and K, then resume + M; expects identical state. Iteration-based schedules. */
async function expectExactResume(cfg: Config, k: number, m: number): Promise<void> {
  const iterCfg = { ...cfg, runner: { type: 'IterBasedRunner', max_iters: k + m }, checkpoint_config: { interval: k, by_epoch: false } } as Config;
  const seed = 7;
  const full = createRunner(iterCfg, { workDir: tmp(), seed, log: new MemoryLogSink() });
  await full.run();
  const want = state(full);
  const wantRng = full.opts.rng?.state() ?? null;
  disposeRunner(full);

  // The interrupted run has the same schedule (max_iters K+M: poly and step policies depend on it)
  // and stops right after the checkpoint of iteration K, as a kill there would.
  const dir = tmp();
  const first = createRunner(iterCfg, { workDir: dir, seed, log: new MemoryLogSink() });
  const stop = new Error('stop after iteration K');
  first.hooks.push({
    name: 'stop',
    afterIter: (r) => {
      if (r.iter === k) throw stop;
    },
  });
  await first.run().then(
    () => {
      throw new Error('the first run should have stopped');
    },
    (e: unknown) => {
      if (e !== stop) throw e;
    },
  );
  disposeRunner(first);
  const resumed = createRunner(iterCfg, { workDir: dir, seed, log: new MemoryLogSink(), resumeFrom: join(dir, `iter_${k}.safetensors`) });
  expect(resumed.iter).toBe(k);
  await resumed.run();
  const got = state(resumed);
  expect([...got.keys()]).toEqual([...want.keys()]);
  const differing = [...want].filter(([name, v]) => !tf.util.arraysEqual(got.get(name)!, v)).map(([name]) => name);
  expect(differing, 'tensors that differ after resume').toEqual([]);
  expect(resumed.opts.rng?.state() ?? null).toEqual(wantRng);
  disposeRunner(resumed);
}

describe('K+M equals K then resume then M, bit for bit', () => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});

  it('Semantic FPN, demo config (Dropout2d 0.1)', async () => {
    const cfg = await smallConfig('configs/demo/fpn_tinyvim_s_shapes.ts', await smallAde());
    expect((cfg.model as unknown as { decode_head: { dropout_ratio?: number } }).decode_head.dropout_ratio ?? 0.1).toBeGreaterThan(0);
    // 4 images in batches of 2: the iter_2 checkpoint is the last batch of epoch 1 (inner_iter equals
    // the epoch length), a resume point that once made the next epoch empty.
    await expectExactResume(cfg, 2, 1);
  }, 300_000);

  it('Semantic FPN, ADE20K recipe heads (FPN 256, head 128, 150 classes)', async () => {
    const cfg = await smallConfig('configs/sem_fpn/fpn_tinyvim_s_ade20k_40k.ts', await smallAde());
    await expectExactResume(cfg, 1, 1);
  }, 300_000);

  it('Mask R-CNN, demo config', async () => {
    const cfg = await smallConfig('configs/demo/mask_rcnn_tinyvim_s_fpn_shapes.ts', await smallCoco());
    await expectExactResume(cfg, 1, 1);
  }, 300_000);

  it('Mask R-CNN, COCO recipe heads (FPN 256, fc 1024, 4x256 mask convs; 64 sampled RoIs)', async () => {
    const cfg = await smallConfig('configs/mask_rcnn/mask_rcnn_tinyvim_s_fpn_1x_coco.ts', await smallCoco());
    // The recipe's layers, with fewer proposals and sampled RoIs (512 -> 64) to fit a 2-core test run.
    const train = (cfg.model as unknown as { train_cfg: { rpn_proposal: Record<string, number>; rcnn: { sampler: { num: number } } } }).train_cfg;
    train.rpn_proposal.nms_pre = 200;
    train.rpn_proposal.max_per_img = 100;
    train.rcnn.sampler.num = 64;
    await expectExactResume(cfg, 1, 1);
  }, 600_000);
});
