// The TVD_TEST_BACKEND switch (helpers/test_backend.ts): its parsing, and that tools/webgpu_check's
// suite list (helpers/backend_suites.ts) is exactly the suites that run on the test backend.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BACKEND_PORTABLE_SUITES } from './helpers/backend_suites';
import { testBackend, toleranceFactor } from './helpers/test_backend';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');

describe('TVD_TEST_BACKEND', () => {
  it('defaults to cpu, accepts cpu/wasm/webgpu, and names the variable and the choices otherwise', () => {
    expect(testBackend({})).toBe('cpu');
    expect(testBackend({ TVD_TEST_BACKEND: '' })).toBe('cpu');
    expect(testBackend({ TVD_TEST_BACKEND: 'webgpu' })).toBe('webgpu');
    expect(testBackend({ TVD_TEST_BACKEND: 'wasm' })).toBe('wasm');
    expect(() => testBackend({ TVD_TEST_BACKEND: 'gpu' })).toThrow(/^environment variable TVD_TEST_BACKEND: expected one of cpu, wasm, webgpu, got 'gpu'$/);
  });

  it('keeps the cpu tolerances on cpu', async () => {
    await tf.setBackend('cpu');
    expect(toleranceFactor()).toBe(1);
  });

  it("tools/webgpu_check's suite list is every suite that selects the test backend", () => {
    const uses = readdirSync(join(ROOT, 'test'))
      .filter((f) => f.endsWith('.test.ts') && f !== 'test_backend.test.ts')
      .filter((f) => /from '\.\/helpers\/test_backend'/.test(readFileSync(join(ROOT, 'test', f), 'utf8')))
      .map((f) => `test/${f}`)
      .sort();
    expect([...BACKEND_PORTABLE_SUITES].sort()).toEqual(uses);
  });
});
