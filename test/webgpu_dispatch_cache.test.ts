// The cached per-dispatch host path (ops/webgpu/dispatch_cache.ts) on the webgpu backend (SwiftShader
// here): cached uniform records and bind groups, and host uploads through queue.writeBuffer, must
// give exactly what the cpu backend gives, across repeated steps that hit the caches, for float32,
// int32 and bool inputs made on the host; and the uniform packing must follow WGSL's struct layout
// as tfjs's makeUniforms does.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { dispatchCacheOf, packUniforms } from '../ops/webgpu/dispatch_cache';
import { describeWebgpu, relMaxDiff, runOn, seededValues, setupWebgpu } from './helpers/webgpu';

const setup = await setupWebgpu();

it('packUniforms lays fields out as WGSL structs (tfjs makeUniforms rules)', () => {
  // f32 NaN @0, f32 Inf @4, vec3<i32> @16, vec2<i32> @32, i32 @40 -> padded to 48 (max align 16).
  const b = packUniforms([
    { type: 'float32', data: [NaN] },
    { type: 'float32', data: [Infinity] },
    { type: 'int32', data: [2, 3, 4] },
    { type: 'int32', data: [12, 4] },
    { type: 'int32', data: [7] },
  ]);
  expect(b.byteLength).toBe(48);
  const i32 = new Int32Array(b);
  const f32 = new Float32Array(b);
  expect(Number.isNaN(f32[0])).toBe(true);
  expect(f32[1]).toBe(Infinity);
  expect([...i32.slice(4, 7)]).toEqual([2, 3, 4]);
  expect([...i32.slice(8, 10)]).toEqual([12, 4]);
  expect(i32[10]).toBe(7);
  // A field after a 5-element one starts 16-aligned; an empty field is written as [1].
  const c = packUniforms([
    { type: 'int32', data: [1, 2, 3, 4, 5] },
    { type: 'int32', data: [9] },
    { type: 'int32', data: [] },
  ]);
  const ci = new Int32Array(c);
  expect(ci[8]).toBe(9);
  expect(ci[9]).toBe(1);
});

/** A small forward + backward with host-made float32, int32 and bool inputs (uploads each call). */
function step(seed: number): tf.Tensor[] {
  const x = tf.tensor4d(seededValues(2 * 9 * 7 * 5, seed), [2, 9, 7, 5]);
  const w = tf.tensor4d(seededValues(3 * 3 * 5 * 6, seed + 1), [3, 3, 5, 6]);
  const idx = tf.tensor1d([4, 0, 2, 2], 'int32');
  const mask = tf.tensor1d([true, false, true, false, true, true], 'bool');
  const f = (...args: tf.Tensor[]) => {
    const [a, b] = args as [tf.Tensor4D, tf.Tensor4D];
    const y = tf.relu(tf.conv2d(a, b, [2, 1], 'same'));
    const g = tf.gather(y, idx, 1);
    const m = tf.where(tf.broadcastTo(mask, g.shape), g, tf.mul(g, -0.5));
    return tf.mean(tf.sum(tf.square(m), [1, 2]));
  };
  const { value, grads } = tf.valueAndGrads(f)([x, w]);
  return [value, ...grads, tf.add(idx, tf.scalar(3, 'int32')).toFloat()];
}

describeWebgpu(setup, 'cached dispatch path', () => {
  let cpu: Float32Array[][];
  beforeAll(async () => {
    cpu = [await runOn('cpu', () => step(5)), await runOn('cpu', () => step(9))];
  });

  it('matches cpu on repeated steps that hit the uniform and bind-group caches', async () => {
    const cache = dispatchCacheOf(tf.engine().registry.webgpu);
    expect(cache, 'registerWebgpuKernels installs the cache on the webgpu backend').toBeDefined();
    const perRep: string[] = [];
    const missesPerStep: number[] = [];
    for (let rep = 0; rep < 4; rep++) {
      for (const [k, seed] of [5, 9].entries()) {
        const h0 = cache!.bindGroups.hits;
        const m0 = cache!.bindGroups.misses;
        const gpu = await runOn('webgpu', () => step(seed));
        perRep.push(`${cache!.bindGroups.hits - h0}/${cache!.bindGroups.misses - m0}`);
        missesPerStep.push(cache!.bindGroups.misses - m0);
        expect(gpu.length).toBe(cpu[k].length);
        gpu.forEach((g, i) => expect(relMaxDiff(g, cpu[k][i]), `rep ${rep} seed ${seed} output ${i}`).toBeLessThan(1e-5));
      }
    }
    console.log(`bind-group cache hits/misses per step: ${perRep.join(' ')}`);
    // Once each step has run, repetitions reuse every bind group: same shapes, and the pool hands out
    // the same buffers (smallest id first), whatever order the previous step released them in.
    expect(missesPerStep.slice(2)).toEqual(missesPerStep.slice(2).map(() => 0));
  });

  it('keeps tensor counts flat across repeated steps', async () => {
    await runOn('webgpu', () => step(5));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await runOn('webgpu', () => step(5));
    expect(tf.memory().numTensors).toBe(before);
  });
});
