// Backend selection on this machine: no tfjs-node, no GPU adapter, so auto lands on wasm.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../ops/backend';
import { BackendError } from '../core/errors';

describe('selectBackend', () => {
  it('explicit tensorflow without tfjs-node is an error that says what to install', async () => {
    const e = await selectBackend('tensorflow').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendError);
    expect((e as Error).message).toMatch(/backend 'tensorflow' is not available: .*not installed.*npm install @tensorflow\/tfjs-node-gpu/);
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
    const v = g.arraySync() as number[][][][];
    expect(v[1][1][0][0]).toBe(25);
    expect(v[0][0][0][0]).toBe(16);
  });

  it('cpu is always available', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
  });
});
