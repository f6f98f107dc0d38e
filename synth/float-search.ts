/**
 * Finding a float that makes a monotone computation come out at an exact target.
 *
 * The generator must write seeds whose numpy mean (and ln of the mean, for the Hessian) reproduces a
 * published number to the last bit. Rounding makes the inverse of "mean of five values" impossible to
 * write down, but the mean is non-decreasing in any one of its values (every rounded addition and the
 * rounded division are), so a bisection over the floats themselves, ordered by their bit patterns, finds
 * the value that hits the target, or the nearest miss when no float hits it exactly.
 *
 * Hand-written: no library bisects over IEEE-754 bit patterns.
 */

/** Which floats are searched: doubles, or float32 values (numpy float32 scalars). */
export type FloatKind = 'f8' | 'f4';

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const MAG64 = 0x7fffffffffffffffn;

/**
 * The float's position in numeric order: consecutive floats have consecutive positions, +0 and -0 share 0.
 * Positions of doubles are bigints (64-bit patterns), of float32 values numbers.
 */
function position(x: number, kind: FloatKind): bigint {
  if (kind === 'f4') {
    f32[0] = x;
    const b = i32[0];
    return BigInt(b >= 0 ? b : -(b & 0x7fffffff));
  }
  f64[0] = x;
  const b = i64[0];
  return b >= 0n ? b : -(b & MAG64);
}

/** The float at a position (inverse of `position`; position 0 is +0). */
function atPosition(p: bigint, kind: FloatKind): number {
  if (kind === 'f4') {
    const n = Number(p);
    i32[0] = n >= 0 ? n : -n | 0x80000000;
    return f32[0];
  }
  i64[0] = p >= 0n ? p : -p | -0x8000000000000000n;
  return f64[0];
}

/** The float `steps` positions away from x (`steps` = 1: the next float up). */
export function stepFloat(x: number, steps: number, kind: FloatKind = 'f8'): number {
  return atPosition(position(x, kind) + BigInt(steps), kind);
}

export interface SolveResult {
  /** The float found. */
  x: number;
  /** f(x): equal to the target when `exact`, else the closest value reached. */
  value: number;
  exact: boolean;
}

/** Positions tried at most while widening the bracket (2^70 covers every float). */
const MAX_DOUBLINGS = 70;

/**
 * The float x nearest to `start` (of the given kind) with f(x) === target, for a non-decreasing f.
 * When no float hits the target, the one whose f(x) is closest (ties: the one nearer `start`).
 * f may return NaN or infinities outside its domain; those positions count as "too far".
 */
export function solveMonotone(f: (x: number) => number, target: number, start: number, kind: FloatKind = 'f8'): SolveResult {
  const p0 = position(start, kind);
  const v0 = f(start);
  if (v0 === target) return { x: start, value: v0, exact: true };
  const up = !(v0 > target); // NaN at the start: try upwards first
  const dir = up ? 1n : -1n;
  // "Not yet reached" in the search direction.
  const before = (v: number) => (up ? v < target : v > target);

  // Widen: find a position `far` at which f has reached (or passed) the target.
  let near = p0;
  let reached: bigint | null = null;
  for (let k = 0n; k < BigInt(MAX_DOUBLINGS); k++) {
    const p = p0 + dir * (1n << k);
    const x = atPosition(p, kind);
    if (!Number.isFinite(x)) break;
    const v = f(x);
    if (Number.isNaN(v)) break;
    if (before(v)) near = p;
    else {
      reached = p;
      break;
    }
  }
  if (reached === null) {
    const x = atPosition(near, kind);
    return { x, value: f(x), exact: false };
  }
  // Bisect: `near` has not reached the target, `far` has.
  let far: bigint = reached;
  while ((far - near) * dir > 1n) {
    const mid: bigint = near + (far - near) / 2n;
    if (before(f(atPosition(mid, kind)))) near = mid;
    else far = mid;
  }
  const xFar = atPosition(far, kind);
  const vFar = f(xFar);
  if (vFar === target) return { x: xFar, value: vFar, exact: true };
  const xNear = atPosition(near, kind);
  const vNear = f(xNear);
  return Math.abs(vNear - target) <= Math.abs(vFar - target)
    ? { x: xNear, value: vNear, exact: false }
    : { x: xFar, value: vFar, exact: false };
}
