/**
 * Per-seed values that scatter around a cell's value and whose numpy mean is that value, exactly where
 * a float allows it (SEMANTICS.md "The mean, exactly": the extractor takes the mean in the precision of the
 * values, pairwise, as numpy does).
 */
import { ln } from '../dataset/ln.js';
import { numpyMean } from '../dataset/numpy-mean.js';
import { solveMonotone, type FloatKind } from './float-search.js';
import type { Rng } from './prng.js';

export interface ScatterOptions {
  /** Typical distance of a value from the target (a standard deviation); 0 gives n copies of the target. */
  spread: number;
  /** Values never leave [min, max] (an accuracy stays within 0..100, an eigenvalue positive). */
  min?: number;
  max?: number;
  /** Round each value to a multiple of this (an accuracy over 10,000 test images is a multiple of 0.01). */
  quantum?: number;
}

/**
 * n values scattered symmetrically around `target`: pairs target ± d (and the target itself when n is
 * odd), in a random order, so their mean is the target up to rounding. The offsets are shrunk to stay
 * within [min, max]. NaN target: n NaNs.
 */
export function scatterAround(target: number, n: number, rng: Rng, opts: ScatterOptions): number[] {
  if (!Number.isFinite(target)) return new Array<number>(n).fill(target);
  const lo = opts.min ?? -Infinity;
  const hi = opts.max ?? Infinity;
  const room = Math.max(0, Math.min(target - lo, hi - target));
  const values: number[] = [];
  for (let i = 0; i + 1 < n; i += 2) {
    const d = Math.min(Math.abs(rng.normal()) * opts.spread, room);
    values.push(target + d, target - d);
  }
  if (n % 2 === 1) values.push(target);
  // Fisher-Yates, so the seed that sits exactly on the target is not always the last.
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [values[i], values[j]] = [values[j], values[i]];
  }
  if (opts.quantum) {
    const q = opts.quantum;
    return values.map((v) => Math.min(hi, Math.max(lo, Math.round(v / q) * q)));
  }
  return values;
}

/** A monotone function the extractor applies to a mean, with its inverse (to start the search close). */
export interface MeanTransform {
  apply(mean: number): number;
  invert(value: number): number;
}

/**
 * SEMANTICS.md's hessian_e and hessian_t: ln of the mean (correctly rounded, as numpy's log and the
 * extractor).
 */
export const LN: MeanTransform = { apply: ln, invert: Math.exp };
const IDENTITY: MeanTransform = { apply: (m) => m, invert: (v) => v };

export interface FitOptions {
  /** Precision of the mean: `f8` for Python floats and numpy float64, `f4` for numpy float32 (values are rounded to float32). */
  precision: FloatKind;
  /** What the extractor applies to the mean (identity by default); must be non-decreasing. */
  transform?: MeanTransform;
}

export interface FitResult {
  values: number[];
  /** transform(numpy mean of values) === target. */
  exact: boolean;
  /** transform(numpy mean of values): the value the extractor will compute. */
  achieved: number;
}

/**
 * Adjusts the last of `values` (the one numpy adds last, so the mean moves monotonically with it) until
 * transform(mean(values)) equals `target`: to the bit when some float does it, else as close as a float
 * allows. The other values are kept (rounded to float32 for `f4`). A non-finite target gives n copies of
 * its inverse (NaN stays NaN, ln's -Infinity becomes zeros).
 */
export function fitMean(initial: readonly number[], target: number, opts: FitOptions): FitResult {
  const round = opts.precision === 'f4' ? Math.fround : (x: number) => x;
  const tf = opts.transform ?? IDENTITY;
  let values = initial.map(round);
  const evaluate = () => tf.apply(numpyMean(values, opts.precision));
  if (!Number.isFinite(target)) {
    values = values.map(() => round(tf.invert(target)));
    const achieved = evaluate();
    return { values, exact: Object.is(achieved, target), achieved };
  }
  const last = values.length - 1;
  const withLast = (x: number) => {
    values[last] = x;
    return evaluate();
  };
  // Start where the sum would be exact in real arithmetic: usually within an ulp or two of the answer.
  const m = numpyMean(values, opts.precision);
  const start = round(values[last] + (tf.invert(target) - m) * values.length);
  const r = solveMonotone(withLast, target, Number.isFinite(start) ? start : values[last], opts.precision);
  values[last] = r.x;
  return { values, exact: r.exact, achieved: r.value };
}
