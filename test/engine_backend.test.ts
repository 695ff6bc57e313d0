// Backend selection. Without tfjs-node (as here) explicit 'tensorflow' is an error saying what to install;
// with tfjs-node(-gpu) installed, as the README suggests for CUDA machines, it must work instead.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend, webgpuSubmitBatch } from '../ops/backend';
import { BackendError } from '../core/errors';
import { tfjsNodeInstalled } from './helpers/tfjs_node';

describe('selectBackend', () => {
  it.skipIf(tfjsNodeInstalled())('explicit tensorflow without tfjs-node is an error that says what to install', async () => {
    const e = await selectBackend('tensorflow').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendError);
    expect((e as Error).message).toMatch(/backend 'tensorflow' is not available: .*not installed.*npm install @tensorflow\/tfjs-node-gpu/);
  });

  it.runIf(tfjsNodeInstalled())('explicit tensorflow with tfjs-node installed selects it', async () => {
    expect((await selectBackend('tensorflow')).name).toBe('tensorflow');
  });

  it('auto explains every skipped backend and runs a training-capable backend', async () => {
    const choice = await selectBackend('auto');
    expect(['tensorflow', 'webgpu', 'wasm']).toContain(choice.name);
    expect(tf.getBackend()).toBe(choice.name);
    if (choice.name === 'wasm') {
      expect(choice.reasons[0]).toMatch(/^wasm: /);
      expect(choice.reasons.some((r) => r.startsWith('skipped tensorflow: '))).toBe(true);
      expect(choice.reasons.some((r) => r.startsWith('skipped webgpu: '))).toBe(true);
    }
    // A conv gradient runs on the chosen backend (wasm needs the added kernels).
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(tf.ones([1, 5, 5, 2]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')))(tf.ones([3, 3, 2, 4]));
    expect(g.shape).toEqual([3, 3, 2, 4]);
    // Centre tap sees all 25 pixels; a corner tap sees 16.
    // Read asynchronously: on webgpu (e.g. SwiftShader in CI) synchronous reads are not allowed under Node.
    const v = (await g.array()) as number[][][][];
    expect(v[1][1][0][0]).toBe(25);
    expect(v[0][0][0][0]).toBe(16);
  });

  it('cpu is always available', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
  });
});

describe('webgpuSubmitBatch', () => {
  it('defaults to 64 dispatches per submit, TVD_WEBGPU_SUBMIT_BATCH overrides, bad values are one clear error', () => {
    expect(webgpuSubmitBatch({})).toBe(64);
    expect(webgpuSubmitBatch({ TVD_WEBGPU_SUBMIT_BATCH: '15' })).toBe(15);
    expect(() => webgpuSubmitBatch({ TVD_WEBGPU_SUBMIT_BATCH: '0' })).toThrow(BackendError);
    expect(() => webgpuSubmitBatch({ TVD_WEBGPU_SUBMIT_BATCH: 'many' })).toThrow(/TVD_WEBGPU_SUBMIT_BATCH: expected a positive integer/);
  });
});
