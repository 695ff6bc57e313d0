// Numeric helpers that reproduce numpy's results bit for bit.

/**
 * numpy's pairwise summation (add.reduce over a contiguous float64 array): plain loop below 8
 * elements, eight interleaved partial sums up to 128, recursive halving (at a multiple of 8) above.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[start];
    let r1 = a[start + 1];
    let r2 = a[start + 2];
    let r3 = a[start + 3];
    let r4 = a[start + 4];
    let r5 = a[start + 5];
    let r6 = a[start + 6];
    let r7 = a[start + 7];
    const end8 = n - (n % 8);
    let i = 8;
    for (; i < end8; i += 8) {
      const p = start + i;
      r0 += a[p];
      r1 += a[p + 1];
      r2 += a[p + 2];
      r3 += a[p + 3];
      r4 += a[p + 4];
      r5 += a[p + 5];
      r6 += a[p + 6];
      r7 += a[p + 7];
    }
    let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** np.mean of a 1-D float64 array; NaN for an empty array. */
export function npMean(a: ArrayLike<number>): number {
  return pairwiseSum(a) / a.length;
}

/** np.nanmean: NaNs become 0 in the (pairwise) sum and are left out of the count. */
export function npNanMean(a: ArrayLike<number>): number {
  const z = new Float64Array(a.length);
  let cnt = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i])) continue;
    z[i] = a[i];
    cnt++;
  }
  return pairwiseSum(z) / cnt;
}

/**
 * Python's '{:.Nf}'.format(x): correctly rounded, ties to even. JS toFixed rounds exact ties up;
 * an exact tie at N decimals needs x*2^k integral, so we detect it and fix the last digit.
 */
export function pyFixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const s = x.toFixed(digits);
  const scale = 10 ** digits;
  const scaled = Math.abs(x) * scale;
  // Exact tie: fractional part of |x|*10^d is exactly .5 (only possible when |x| is a dyadic rational).
  if (scaled < 2 ** 52 && scaled - Math.floor(scaled) === 0.5 && isExactTie(Math.abs(x), digits)) {
    const lower = Math.floor(scaled);
    if (lower % 2 === 0) {
      // toFixed rounded up to an odd last digit; Python keeps the even lower value.
      const v = (x < 0 ? -lower : lower) / scale;
      const out = Math.abs(v).toFixed(digits);
      return x < 0 || Object.is(x, -0) ? '-' + out : out;
    }
  }
  return s;
}

/** True when |x| is exactly (n + 1/2) / 10^digits as a real number. */
function isExactTie(ax: number, digits: number): boolean {
  // (n + 1/2)/10^d = (2n+1) / (2^(d+1) 5^d): representable only if 5^d divides (2n+1). Check with
  // BigInt arithmetic on the exact binary value of ax.
  const [mant, exp] = frexpInt(ax);
  // ax = mant * 2^exp. tie <=> ax * 10^d * 2 is an odd integer.
  let num = mant * 2n * 10n ** BigInt(digits);
  if (exp >= 0) num <<= BigInt(exp);
  else {
    const den = 1n << BigInt(-exp);
    if (num % den !== 0n) return false;
    num /= den;
  }
  return num % 2n === 1n;
}

function frexpInt(x: number): [bigint, number] {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) return [mant, -1074];
  mant |= 1n << 52n;
  return [mant, e - 1075];
}

/** Python's round(x, digits) (correct decimal rounding, ties to even), as a number. */
export function pyRound(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  return Number(pyFixed(x, digits));
}

/** Python's repr of a float (shortest round-trip), as used by str(np.float64). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const s = String(x);
  // JS writes 1e-7 where Python writes 1e-07.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}
