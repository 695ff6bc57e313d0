// Loader for test/fixtures/ops (format: test/fixtures/ops/README.md). A missing file throws,
// so the test that needs it fails instead of skipping.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FixtureTensor {
  shape: number[];
  layout?: string;
  dtype?: string;
  data: (number | string)[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** The op fixtures inside the repository (test/fixtures/ops). */
function fixtureDir(): string {
  return resolve(here, '../fixtures/ops');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadOpFixture(name: string): any {
  const file = join(fixtureDir(), name);
  if (!existsSync(file)) throw new Error(`missing fixture ${file}`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

function num(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`bad fixture number ${v}`);
}

export function f32(t: FixtureTensor): Float32Array {
  return Float32Array.from(t.data.map(num));
}

export function f64(t: FixtureTensor): Float64Array {
  return Float64Array.from(t.data.map(num));
}

/** NCHW flat data -> NHWC flat data. */
export function nchwToNhwc(data: ArrayLike<number>, [n, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(n * c * h * w);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + ch] = data[((b * c + ch) * h + y) * w + x];
  return out;
}

/** Largest |a - b| (NaN in both at the same place counts as equal; NaN in one as Infinity). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const d = Number.isNaN(x) || Number.isNaN(y) ? Infinity : Math.abs(x - y);
    if (d > m) m = d;
  }
  return m;
}
