// Mask R-CNN's test path is asynchronous end to end: with every synchronous tensor read trapped
// (helpers/sync_read_guard.ts) it still runs on cpu and wasm, makes at most three asynchronous reads per
// batch (RPN candidates, RCNN scores/boxes, mask probabilities), and reproduces the results of the
// former synchronous implementation; a batch of mixed-size images equals each image run alone.
//
// Fixtures (test/fixtures/mask_rcnn_async/): tiny_trained.safetensors from
// helpers/make_mask_rcnn_async_fixture.ts; sync_reference.json = MaskRCNN.predict of that checkpoint
// on tinyBatch(101) and tinyBatch(102) (2 images of 64x64 each), computed with the synchronous-read
// implementation of commit 9175c13 on the cpu backend (see its "source" field).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { buildMaskRCNN } from '../models/mask_rcnn_builder';
import type { MaskRCNN } from '../models/mask_rcnn';
import type { DetBatch } from '../datasets/types';
import { loadStateDict, readCheckpoint } from '../checkpoint';
import { registerTinyBackbone, tinyBatch, tinyMaskRcnnConfig } from './helpers/mask_rcnn_tiny';
import { SyncReadError, withoutSyncReads } from './helpers/sync_read_guard';
import { compareDetections } from '../tools/lib/det_compare';

const FIX = 'test/fixtures/mask_rcnn_async';

function trainedTiny(): MaskRCNN {
  const model = buildMaskRCNN(tinyMaskRcnnConfig());
  loadStateDict(model.module, readCheckpoint(`${FIX}/tiny_trained.safetensors`).stateDict, { strict: true, source: 'tiny_trained.safetensors' });
  return model;
}

/** Images of several batches in one collated batch: padded bottom/right with 0 to the largest size. */
function stack(parts: DetBatch[]): DetBatch {
  const H = Math.max(...parts.map((p) => p.shape[1]));
  const W = Math.max(...parts.map((p) => p.shape[2]));
  const N = parts.reduce((a, p) => a + p.shape[0], 0);
  const data = new Float32Array(N * H * W * 3);
  let n = 0;
  for (const p of parts) {
    const [pn, ph, pw] = p.shape;
    for (let i = 0; i < pn; i++, n++) for (let y = 0; y < ph; y++) data.set(p.data.subarray(((i * ph + y) * pw) * 3, ((i * ph + y) * pw + pw) * 3), ((n * H + y) * W) * 3);
  }
  return { kind: 'det', data, shape: [N, H, W, 3], metas: parts.flatMap((p) => p.metas) };
}

const json = (v: unknown) => JSON.parse(JSON.stringify(v));

beforeAll(() => {
  registerTinyBackbone();
});

describe('Mask R-CNN asynchronous inference', () => {
  it('the guard traps dataSync, arraySync, bufferSync and backend.readSync outside kernels; kernels and data() still work', async () => {
    await tf.setBackend('cpu');
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    for (const read of [() => t.dataSync(), () => t.arraySync(), () => t.bufferSync(), () => (tf.backend() as unknown as { readSync(d: unknown): unknown }).readSync(t.dataId)]) {
      await expect(withoutSyncReads(async () => read())).rejects.toBeInstanceOf(SyncReadError);
    }
    const { value, asyncReads } = await withoutSyncReads(async () => {
      const s = tf.matMul(t, t); // cpu kernels read their inputs synchronously inside the kernel: allowed
      const v = Array.from(await s.data());
      s.dispose();
      return v;
    });
    expect(value).toEqual([7, 10, 15, 22]);
    expect(asyncReads).toBe(1);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4]); // traps removed afterwards
    t.dispose();
  });

  it('cpu: predictions with synchronous reads trapped equal the synchronous implementation (3 reads per batch)', async () => {
    await tf.setBackend('cpu');
    const ref = JSON.parse(readFileSync(`${FIX}/sync_reference.json`, 'utf8')) as { batches: number[]; results: unknown[] };
    const model = trainedTiny();
    const before = tf.memory().numTensors;
    for (const [k, seed] of ref.batches.entries()) {
      const { value, asyncReads } = await withoutSyncReads(() => model.predict(tinyBatch(seed, 2, 64)));
      expect(asyncReads).toBeLessThanOrEqual(3);
      expect(value.some((r) => r.scores.length > 0)).toBe(true);
      expect(json(value)).toEqual(ref.results[k]);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('wasm: the same code path runs with synchronous reads trapped and agrees with cpu', async () => {
    await tf.setBackend('cpu');
    const onCpu = trainedTiny();
    const batch = tinyBatch(101, 2, 64);
    const cpu = await onCpu.predictBitmaps(batch);
    onCpu.dispose();
    // Built on wasm (moving cpu tensors to another backend is itself a synchronous read).
    await tf.setBackend('wasm');
    const onWasm = trainedTiny();
    const { value: wasm, asyncReads } = await withoutSyncReads(() => onWasm.predictBitmaps(batch));
    expect(asyncReads).toBeLessThanOrEqual(3);
    cpu.forEach((r, i) => {
      const d = compareDetections(r, wasm[i], { boxTol: 1e-3, scoreTol: 1e-5 });
      expect(d.problems, `image ${i}`).toEqual([]);
    });
    onWasm.dispose();
    await tf.setBackend('cpu');
  });

  it('a batch of mixed-size images gives exactly the results of each image alone', async () => {
    await tf.setBackend('cpu');
    const model = trainedTiny();
    // Two 64x64 and one 96x96 image in one batch padded to 96x96 (collate's layout).
    const singles = [tinyBatch(101, 1, 64), tinyBatch(103, 1, 96), tinyBatch(102, 1, 64)];
    const alone = [];
    for (const b of singles) alone.push(json(await model.predict(b))[0]);
    const batch = stack(singles);
    expect(batch.shape).toEqual([3, 96, 96, 3]);
    const { value, asyncReads } = await withoutSyncReads(() => model.predict(batch));
    // Two size groups (64 and 96), three reads each.
    expect(asyncReads).toBeLessThanOrEqual(6);
    expect(json(value)).toEqual(alone);
    expect(alone.every((r) => r.scores.length > 0)).toBe(true);
    model.dispose();
  });
});
