/**
 * The natural logarithm, correctly rounded.
 *
 * Hand-written because V8's `Math.log` is not always correctly rounded: ln(2797610) (log_para_amount of
 * width 32) comes out one ulp away from the nearest double, while numpy (glibc's log) gives the nearest,
 * and the published dataframe carries those bits. Here ln is evaluated in double-double arithmetic (about
 * 100 bits) and rounded once, which gives the nearest double except for inputs within ~2^-100 of a
 * rounding midpoint (none is known near the values the dataset uses).
 *
 * Method: x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln x = e ln 2 + 2 atanh(s), s = (m - 1) / (m + 1),
 * |s| < 0.172, atanh by its series s + s^3/3 + s^5/5 + ... (24 terms reach 2^-110).
 */

/** A double-double: the unevaluated sum hi + lo with |lo| <= ulp(hi) / 2. */
type DD = [number, number];

const LN2: DD = [0.6931471805599453, 2.3190468138462996e-17];
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const ta = SPLIT * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = SPLIT * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function add(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = twoSum(s, e + t);
  return twoSum(s2, e2 + f);
}

function mul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return twoSum(p, e + (a[0] * b[1] + a[1] * b[0]));
}

function div(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  const r = add(a, neg(mul(b, [q1, 0])));
  const q2 = r[0] / b[0];
  const r2 = add(r, neg(mul(b, [q2, 0])));
  const q3 = r2[0] / b[0];
  return add(twoSum(q1, q2), [q3, 0]);
}

function neg(a: DD): DD {
  return [-a[0], -a[1]];
}

const view = new DataView(new ArrayBuffer(8));

/** 1 / (2k + 1) for k = 0..24, as double-doubles (the atanh series' coefficients). */
const INV_ODD: DD[] = Array.from({ length: 25 }, (_, k) => div([1, 0], [2 * k + 1, 0]));

/** ln(x), the double nearest the exact value (NaN for x < 0 or NaN, -Infinity for 0, as Math.log). */
export function ln(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  let scale = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 2 ** 54; // subnormal: make it normal first
    scale = -54;
  }
  view.setFloat64(0, x);
  const hiWord = view.getUint32(0);
  let e = ((hiWord >>> 20) & 0x7ff) - 1023 + scale;
  view.setUint32(0, (hiWord & 0x800fffff) | (1023 << 20)); // same mantissa, exponent 0: m in [1, 2)
  let m = view.getFloat64(0);
  if (m > Math.SQRT2) {
    m /= 2; // exact
    e += 1;
  }
  if (m === 1 && e === 0) return 0;
  const s = div(twoSum(m, -1), twoSum(m, 1));
  const s2 = mul(s, s);
  // atanh(s) / s = sum s2^k / (2k + 1), by Horner from the smallest term.
  let poly: DD = INV_ODD[24];
  for (let k = 23; k >= 0; k--) poly = add(INV_ODD[k], mul(poly, s2));
  const atanh2 = mul(mul(s, poly), [2, 0]);
  const eln2 = mul(LN2, [e, 0]);
  const r = add(eln2, atanh2);
  return r[0] + r[1];
}
