// Shared helpers of the TinyViM parity tests: fixture loading, NCHW<->NHWC, tolerance checks.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type RawTensor, readSafetensors } from '../../checkpoint/formats/safetensors';

/** test/fixtures/tinyvim (copied from the project's shared fixtures; provenance in its README). */
export const FIXTURES = new URL('../fixtures/tinyvim/', import.meta.url).pathname;

/** Reads a fixture; a missing fixture fails the test (never skips). */
export function fixture(name: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const path = FIXTURES + name;
  if (!existsSync(path)) throw new Error(`fixture missing: ${path}`);
  return readSafetensors(readFileSync(path), path);
}

export function tensorOf(m: Map<string, RawTensor>, key: string): tf.Tensor {
  const t = m.get(key);
  if (!t) throw new Error(`fixture tensor '${key}' missing`);
  return tf.tensor(Float32Array.from(t.data as ArrayLike<number>), t.shape, 'float32');
}

export const toNHWC = <T extends tf.Tensor>(t: T): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
export const toNCHW = <T extends tf.Tensor>(t: T): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]) as tf.Tensor4D;

/** max |a - b| - (atol + rtol * |b|) must be <= 0 everywhere (the fixture README's output check). */
export function expectClose(a: tf.Tensor, b: tf.Tensor, atol: number, rtol: number, what: string): number {
  expect(a.shape, `${what}: shape`).toEqual(b.shape);
  const [excess, maxDiff] = tf.tidy(() => {
    const d = tf.abs(tf.sub(a, b));
    return [tf.max(tf.sub(d, tf.add(atol, tf.mul(rtol, tf.abs(b))))).dataSync()[0], tf.max(d).dataSync()[0]];
  });
  expect(excess, `${what}: max abs diff ${maxDiff} exceeds ${atol} + ${rtol}*|ref|`).toBeLessThanOrEqual(0);
  return maxDiff;
}

/** Gradient check: max |a - b| <= rel * max |b|. */
export function expectGradClose(a: tf.Tensor, b: tf.Tensor, rel: number, what: string): number {
  expect(a.shape, `${what}: shape`).toEqual(b.shape);
  const [diff, scale] = tf.tidy(() => [tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], tf.max(tf.abs(b)).dataSync()[0]]);
  expect(diff, `${what}: max abs diff ${diff} vs ${rel} * max|ref| (${scale})`).toBeLessThanOrEqual(rel * scale);
  return diff / scale;
}
