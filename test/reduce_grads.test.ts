// ops/reduce_grads.ts replaces tfjs's Sum and Mean gradients (which multiply by a host-made array of
// ones) with broadcasts of dy: the values must be exactly tfjs's, for every axis form and dtype.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { registerReduceGradients } from '../ops/reduce_grads';
import { countStep } from '../tools/lib/profile';
import { describeWebgpu, seededValues, setupWebgpu } from './helpers/webgpu';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Record<string, unknown>) => Record<string, () => tf.Tensor>;
let tfjsSum: GradFunc;
let tfjsMean: GradFunc;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tfjsSum = tf.getGradient('Sum')!.gradFunc as unknown as GradFunc;
  tfjsMean = tf.getGradient('Mean')!.gradFunc as unknown as GradFunc;
  registerReduceGradients();
});

const CASES: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
  { shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false },
  { shape: [2, 3, 4], axis: -1, keepDims: false },
  { shape: [2, 3, 4], axis: [0, 2], keepDims: true },
  { shape: [5, 7], axis: 0, keepDims: false },
  { shape: [3, 1, 6], axis: [1], keepDims: false },
];

it('Sum and Mean gradients equal tfjs 4.22 exactly', () => {
  for (const { shape, axis, keepDims } of CASES) {
    for (const [name, op, ref] of [
      ['Sum', tf.sum, () => tfjsSum],
      ['Mean', tf.mean, () => tfjsMean],
    ] as const) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 3);
      const y = op(x, axis, keepDims);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 4);
      const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(op(t, axis, keepDims), dy)))(x);
      // tfjs's gradFunc applied to the same dy (attrs as the kernel receives them).
      const theirs = ref()(dy, [x], { axis, keepDims }).x();
      expect(ours.shape, `${name} ${JSON.stringify({ shape, axis })}`).toEqual(shape);
      expect(Array.from(ours.dataSync()), `${name} ${JSON.stringify({ shape, axis })}`).toEqual(Array.from(theirs.dataSync()));
      tf.dispose([x, y, dy, ours, theirs]);
    }
  }
});

it('int32 inputs get float32 gradients, as with tfjs', () => {
  const x = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
  const g = tf.grad((t: tf.Tensor) => tf.sum(t, 1))(x);
  expect(g.dtype).toBe('float32');
  expect(Array.from(g.dataSync())).toEqual([1, 1, 1, 1]);
  tf.dispose([x, g]);
});

it('uploads no host array of the input size in the backward pass (tfjs: a Float32Array of ones)', async () => {
  const x = tf.randomNormal([64, 64]);
  const c = await countStep(async () => {
    const g = tf.grad((t: tf.Tensor) => tf.add(tf.mean(t), tf.sum(t)))(x);
    expect(Array.from(g.dataSync()).every((v) => v === 1 / 4096 + 1)).toBe(true);
    g.dispose();
  });
  // At most the scalar divisor of Mean (4 bytes) and the engine's scalar seed dy; no 16 KiB array.
  expect(c.upload_bytes).toBeLessThan(64);
  x.dispose();
});

// On webgpu the gradient must stay on the GPU: tfjs-backend-webgpu runs Tile (tf.broadcastTo) on the
// host when its input is a small host tensor, such as the scalar seed dy, which made the 2x800x1344
// backbone step 4x slower on the H200 when broadcastTo was used here.
const gpu = await setupWebgpu();
describeWebgpu(gpu, 'Sum and Mean gradients on webgpu', () => {
  it('are computed on the GPU (the result has a GPU buffer, no host values)', async () => {
    await tf.setBackend('webgpu');
    const x = tf.tensor2d(seededValues(64 * 64, 7), [64, 64]);
    for (const op of [tf.sum, tf.mean]) {
      const g = tf.grad((t: tf.Tensor) => op(t))(x);
      const data = (tf.backend() as unknown as { tensorMap: { get(id: object): { values: unknown; resource: unknown } } }).tensorMap.get(g.dataId);
      expect(data.values ?? null).toBeNull();
      expect(data.resource).not.toBeNull();
      const v = await g.data();
      expect(v[0]).toBe(op === tf.sum ? 1 : 1 / 4096);
      g.dispose();
    }
    x.dispose();
    await tf.setBackend('cpu');
  });
});
