// Shared helpers of the TinyViM parity tests: fixture loading, NCHW<->NHWC, tolerance checks.
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { type RawTensor, readSafetensors } from '../../checkpoint/formats/safetensors';
import { toleranceFactor } from './test_backend';

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

/** Host copy of a tensor through the asynchronous read (webgpu under Node has no synchronous one). */
async function host(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from((await t.data()) as ArrayLike<number>);
}

/**
 * max |a - b| - (atol + rtol * |b|) must be <= 0 everywhere (the fixture README's output check).
 * atol and rtol are the cpu tests' bounds; on webgpu they widen by toleranceFactor()
 * (helpers/test_backend.ts). Returns max |a - b|.
 */
export async function expectClose(a: tf.Tensor, b: tf.Tensor, atol: number, rtol: number, what: string): Promise<number> {
  expect(a.shape, `${what}: shape`).toEqual(b.shape);
  const f = toleranceFactor();
  const [x, y] = [await host(a), await host(b)];
  let excess = -Infinity;
  let maxDiff = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    // NaN propagates into both, so a NaN output fails.
    excess = Number.isNaN(d) ? NaN : Math.max(excess, d - f * (atol + rtol * Math.abs(y[i])));
    maxDiff = Number.isNaN(d) || Number.isNaN(maxDiff) ? NaN : Math.max(maxDiff, d);
  }
  expect(excess, `${what}: max abs diff ${maxDiff} exceeds ${f === 1 ? '' : `${f} x (`}${atol} + ${rtol}*|ref|${f === 1 ? '' : ')'} on ${tf.getBackend()}`).toBeLessThanOrEqual(0);
  return maxDiff;
}

/** Gradient check: max |a - b| <= rel * max |b| (rel widened on webgpu as in expectClose). Returns max|a-b| / max|b|. */
export async function expectGradClose(a: tf.Tensor, b: tf.Tensor, rel: number, what: string): Promise<number> {
  expect(a.shape, `${what}: shape`).toEqual(b.shape);
  const f = toleranceFactor();
  const [x, y] = [await host(a), await host(b)];
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    diff = Number.isNaN(d) || Number.isNaN(diff) ? NaN : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(y[i]));
  }
  expect(diff, `${what}: max abs diff ${diff} vs ${f * rel} * max|ref| (${scale}) on ${tf.getBackend()}`).toBeLessThanOrEqual(f * rel * scale);
  return diff / scale;
}
