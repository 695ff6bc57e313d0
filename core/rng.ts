/**
 * Seedable PRNG (xoshiro128**) shared by the data pipeline and the engine.
 * 32-bit state words keep it exact in JS numbers; `state()`/`setState()` let a
 * checkpoint resume the exact stream.
 */

/** splitmix32: spreads a user seed over the 128-bit state (never all zero). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export type RngState = [number, number, number, number];

export class Rng {
  private s: Uint32Array;

  constructor(seed = 0) {
    this.s = new Uint32Array(4);
    this.seed(seed);
  }

  /** Re-seed in place. */
  seed(seed: number): void {
    const sm = splitmix32(Math.floor(seed) >>> 0);
    for (let i = 0; i < 4; i++) this.s[i] = sm();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const x = Math.imul(s[1], 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 11) | (s[3] >>> 21);
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float in [a, b) (numpy.random.uniform semantics). */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** Uniform integer in [lo, hi) — half-open like numpy.random.randint(lo, hi). */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`Rng.int: empty range [${lo}, ${hi})`);
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** True with probability p (draws one number even when p is 0 or 1, to keep streams aligned). */
  bernoulli(p: number): boolean {
    return this.next() < p;
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(st: RngState): void {
    if (st.length !== 4 || st.every((v) => (v >>> 0) === 0)) throw new RangeError('Rng.setState: expected 4 uint32 words, not all zero');
    for (let i = 0; i < 4; i++) this.s[i] = st[i] >>> 0;
  }

  /**
   * A seed derived from several integers (e.g. seed, epoch, index): per-sample
   * streams that do not depend on which worker or in which order samples run.
   */
  static derive(...parts: number[]): number {
    let h = 0x811c9dc5;
    for (const p of parts) {
      const sm = splitmix32((h ^ (Math.floor(p) >>> 0)) >>> 0);
      h = (sm() ^ Math.imul(h, 0x01000193)) >>> 0;
    }
    return h >>> 0;
  }
}
