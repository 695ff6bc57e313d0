// Small typed-array helpers for the CPU parts of the heads (targets, proposals).

type Typed = Float32Array | Int32Array | Uint8Array;

/** Concatenates typed arrays of one kind into a new array of that kind. */
export function concatTyped<T extends Typed>(parts: T[], make: (n: number) => T): T {
  const out = make(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const concatF32 = (parts: Float32Array[]): Float32Array => concatTyped(parts, (n) => new Float32Array(n));
export const concatI32 = (parts: Int32Array[]): Int32Array => concatTyped(parts, (n) => new Int32Array(n));
export const concatU8 = (parts: Uint8Array[]): Uint8Array => concatTyped(parts, (n) => new Uint8Array(n));

/** Boxes idx[0], idx[1], ... of a flat [n*4] array. */
export function gatherBboxes(bboxes: Float32Array, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * 4);
  idx.forEach((j, t) => out.set(bboxes.subarray(j * 4, j * 4 + 4), t * 4));
  return out;
}
