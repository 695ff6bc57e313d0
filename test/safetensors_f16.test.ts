// float16 storage of safetensors (the browser download option): exact bit patterns for known values
// (IEEE 754 binary16), round-to-nearest-even, and a write/read round trip within half precision.
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits, readSafetensors, writeSafetensors } from '../checkpoint/formats/safetensors';

describe('safetensors float16 storage', () => {
  it('converts known values to their binary16 bits', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff], [65520, 0x7c00], // rounds to inf
      [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -14, 0x0400], [2 ** -24, 0x0001], [2 ** -26, 0x0000], [1 + 2 ** -11, 0x3c00], // tie -> even
      [1 + 3 * 2 ** -11, 0x3c02], // tie -> even (up)
      [0.1, 0x2e66],
    ];
    for (const [v, bits] of cases) expect(f32ToF16Bits(v).toString(16), `value ${v}`).toBe(bits.toString(16));
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it('writes F16 for float32 tensors (half the bytes) and reads them back as float32 within 2^-11 relative', () => {
    const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const ints = Int32Array.from([1, -2, 3]);
    const full = writeSafetensors([['w', { shape: [10, 100], data }], ['n', { shape: [3], data: ints }]], { a: 'b' });
    const half = writeSafetensors([['w', { shape: [10, 100], data }], ['n', { shape: [3], data: ints }]], { a: 'b' }, { f16: true });
    expect(full.byteLength - half.byteLength).toBeGreaterThanOrEqual(2000 - 16);
    const back = readSafetensors(half);
    expect(back.metadata).toEqual({ a: 'b' });
    expect(back.tensors.get('w')!.dtype).toBe('F16');
    expect(Array.from(back.tensors.get('n')!.data)).toEqual([1, -2, 3]);
    const w = back.tensors.get('w')!.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      const tol = Math.max(Math.abs(data[i]) * 2 ** -11, 2 ** -25);
      expect(Math.abs(w[i] - data[i])).toBeLessThanOrEqual(tol);
    }
  });
});
