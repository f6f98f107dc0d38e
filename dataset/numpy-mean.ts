/**
 * numpy's `mean`, bit for bit (SEMANTICS.md "The mean, exactly").
 *
 * Hand-written because no JS library reproduces numpy's summation order: numpy adds with a pairwise
 * scheme (8 partial sums, blocks of 128, halves split at a multiple of 8), so a plain left-to-right sum
 * differs in the last bits, and the published numbers carry those bits. For float32 data numpy also
 * rounds every addition (and the division) to float32; `Math.fround` does exactly that.
 *
 * The reduction starts from add's identity 0 (so a lone -0.0 sums to 0.0, as in numpy).
 */

/** Precision a mean is taken in: `f8` for Python floats and numpy float64, `f4` for numpy float32. */
export type MeanPrecision = 'f8' | 'f4';

/** numpy's block size: at most this many values are summed with the 8-accumulator loop. */
const BLOCK = 128;

/**
 * numpy's pairwise sum of `a[start .. start+n)` in float64.
 * @param a values (not copied)
 * @param start first index
 * @param n how many values
 */
export function pairwiseSum64(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= BLOCK) {
    let r0 = a[start], r1 = a[start + 1], r2 = a[start + 2], r3 = a[start + 3];
    let r4 = a[start + 4], r5 = a[start + 5], r6 = a[start + 6], r7 = a[start + 7];
    const whole = n - (n % 8);
    let i = 8;
    for (; i < whole; i += 8) {
      const p = start + i;
      r0 += a[p]; r1 += a[p + 1]; r2 += a[p + 2]; r3 += a[p + 3];
      r4 += a[p + 4]; r5 += a[p + 5]; r6 += a[p + 6]; r7 += a[p + 7];
    }
    let res = (r0 + r1 + (r2 + r3)) + (r4 + r5 + (r6 + r7));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum64(a, start, half) + pairwiseSum64(a, start + half, n - half);
}

/**
 * numpy's pairwise sum of `a[start .. start+n)` in float32: inputs are rounded to float32 (as numpy
 * would have stored them) and every addition is rounded to float32.
 */
export function pairwiseSum32(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  const f = Math.fround;
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = f(res + f(a[start + i]));
    return res;
  }
  if (n <= BLOCK) {
    let r0 = f(a[start]), r1 = f(a[start + 1]), r2 = f(a[start + 2]), r3 = f(a[start + 3]);
    let r4 = f(a[start + 4]), r5 = f(a[start + 5]), r6 = f(a[start + 6]), r7 = f(a[start + 7]);
    const whole = n - (n % 8);
    let i = 8;
    for (; i < whole; i += 8) {
      const p = start + i;
      r0 = f(r0 + f(a[p])); r1 = f(r1 + f(a[p + 1])); r2 = f(r2 + f(a[p + 2])); r3 = f(r3 + f(a[p + 3]));
      r4 = f(r4 + f(a[p + 4])); r5 = f(r5 + f(a[p + 5])); r6 = f(r6 + f(a[p + 6])); r7 = f(r7 + f(a[p + 7]));
    }
    let res = f(f(f(r0 + r1) + f(r2 + r3)) + f(f(r4 + r5) + f(r6 + r7)));
    for (; i < n; i++) res = f(res + f(a[start + i]));
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return f(pairwiseSum32(a, start, half) + pairwiseSum32(a, start + half, n - half));
}

/** numpy's `mean` of float64 values (Python floats, numpy float64). NaN for no values, as numpy. */
export function mean64(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) return NaN;
  // 0 + sum: the reduction starts from add's identity, which turns a -0.0 sum into 0.0.
  return (0 + pairwiseSum64(a, 0, n)) / n;
}

/**
 * numpy's `mean` of float32 values: pairwise sum in float32, then the division rounded to float32.
 * (numpy divides the float32 sum in float64 and casts back; for one division that is the same as a
 * correctly rounded float32 division, which is what `Math.fround(sum / n)` computes.)
 */
export function mean32(a: ArrayLike<number>): number {
  const n = a.length;
  if (n === 0) return NaN;
  return Math.fround(Math.fround(0 + pairwiseSum32(a, 0, n)) / n);
}

/** numpy's `mean` in the given precision. */
export function numpyMean(a: ArrayLike<number>, precision: MeanPrecision): number {
  return precision === 'f4' ? mean32(a) : mean64(a);
}
