import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, decodeEvent, EventFileWriter, maskedCrc32c, readTfRecords, tfRecord } from '../engine/tfevents';
import { MemoryLogSink } from '../engine/log_writer';
import { applyLoggerHooks, recordToScalars } from '../engine/hooks/tensorboard_hook';

const tmp = () => mkdtempSync(join(tmpdir(), 'tb-'));

describe('tfevents writer', () => {
  it('crc32c matches the Castagnoli check value and the RFC 3720 test vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // 32 zero bytes, RFC 3720 B.4
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  it('frames a record that a TFRecord reader accepts, and rejects a flipped byte', () => {
    const rec = tfRecord(new Uint8Array([1, 2, 3]));
    expect(rec.length).toBe(19);
    expect(new DataView(rec.buffer).getUint32(8, true)).toBe(maskedCrc32c(rec.subarray(0, 8)));
    expect(readTfRecords(rec)).toEqual([new Uint8Array([1, 2, 3])]);
    const bad = rec.slice();
    bad[13] ^= 1;
    expect(() => readTfRecords(bad)).toThrow(/data CRC mismatch/);
  });

  it('writes a version event then scalar events that decode back to the same tags, steps and float32 values', () => {
    const dir = tmp();
    const w = new EventFileWriter(dir, 1700000000.5);
    w.addScalars(5, { 'train/loss_cls': 0.25, learning_rate: 0.02 }, 1700000001);
    w.addScalars(10, { 'val/bbox_mAP': 0.125, skipped: NaN }, 1700000002);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^events\.out\.tfevents\.1700000000\./)]);
    const events = readTfRecords(readFileSync(w.path)).map(decodeEvent);
    expect(events).toHaveLength(3);
    expect(events[0].fileVersion).toBe('brain.Event:2');
    expect(events[0].wallTime).toBe(1700000000.5);
    expect(events[1]).toMatchObject({ step: 5, wallTime: 1700000001, scalars: { 'train/loss_cls': 0.25, learning_rate: Math.fround(0.02) } });
    expect(events[2].scalars).toEqual({ 'val/bbox_mAP': 0.125 });
  });
});

describe('TensorboardLoggerHook', () => {
  it('names scalars as mmcv does: train/<loss>, learning_rate, val/<metric>', () => {
    expect(recordToScalars({ mode: 'train', epoch: 1, iter: 5, global_iter: 5, lr: 0.01, time: 0.5, data_time: 0.1, memory: 3, num_tensors: 9, loss_cls: 1.5 })).toEqual({
      'train/loss_cls': 1.5,
      learning_rate: 0.01,
      'train/time': 0.5,
      'train/data_time': 0.1,
    });
    expect(recordToScalars({ mode: 'val', epoch: 1, iter: 10, bbox_mAP: 0.3 })).toEqual({ 'val/bbox_mAP': 0.3 });
  });

  it('log_config.hooks TensorboardLoggerHook tees JSON records into <work_dir>/tf_logs; unknown types are rejected', () => {
    const dir = tmp();
    const mem = new MemoryLogSink();
    const sink = applyLoggerHooks(mem, [{ type: 'TextLoggerHook' }, { type: 'TensorboardLoggerHook' }], dir);
    sink.json({ mode: 'train', global_iter: 20, iter: 20, lr: 0.1, loss: 2 });
    expect(mem.records).toHaveLength(1);
    const [file] = readdirSync(join(dir, 'tf_logs'));
    const events = readTfRecords(readFileSync(join(dir, 'tf_logs', file))).map(decodeEvent);
    expect(events[1]).toMatchObject({ step: 20, scalars: { 'train/loss': 2, learning_rate: Math.fround(0.1) } });
    expect(applyLoggerHooks(mem, undefined, dir)).toBe(mem);
    expect(() => applyLoggerHooks(mem, [{ type: 'WandbLoggerHook' }], dir)).toThrow(/log_config.hooks\[0\].type/);
  });
});

describe('TensorboardLoggerHook in a training run', () => {
  it('a toy run with log_config.hooks TensorboardLoggerHook writes train/val scalars TensorBoard can read', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const { loadConfig } = await import('../core/config');
    const { createRunner } = await import('../engine/build');
    const { cfg } = await loadConfig('test/fixtures/configs/toy_cls.ts', ['runner.max_iters=10']);
    cfg.log_config = { interval: 5, hooks: [{ type: 'TextLoggerHook' }, { type: 'TensorboardLoggerHook' }] };
    const workDir = tmp();
    await createRunner(cfg, { workDir, seed: 0, log: new MemoryLogSink() }).run();
    const [file] = readdirSync(join(workDir, 'tf_logs'));
    const events = readTfRecords(readFileSync(join(workDir, 'tf_logs', file))).map(decodeEvent);
    const train = events.filter((e) => 'train/loss' in e.scalars);
    expect(train.map((e) => e.step)).toEqual([5, 10]);
    expect(train[0].scalars).toHaveProperty('learning_rate');
    expect(events.some((e) => 'val/accuracy' in e.scalars && e.step === 10)).toBe(true);
  });
});
