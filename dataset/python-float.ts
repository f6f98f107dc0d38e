/**
 * Python's `repr(float)`: the CSV outputs must read like the ones pandas wrote.
 *
 * Hand-written because no library lays numbers out Python's way. The digits need no work: JavaScript's
 * `Number#toString` already gives the shortest digit string that reads back to the same double (with the
 * same tie rule as Python's, the candidate closest to the exact value). Only the layout differs: Python
 * switches to exponent notation below 1e-4 and from 1e16 on (JS: below 1e-6 and from 1e21 on), writes at
 * least two exponent digits with a sign (`1e-05`, `1e+16`), and always shows a fraction (`123.0`).
 */

/**
 * Formats a double exactly as Python's `repr(float)` does.
 * `53.19`, `0.0`, `-0.0`, `1e-05`, `0.0001`, `1e+16`, `1.5e+16`, `123.0`, `inf`, `-inf`, `nan`.
 */
export function formatPythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';

  const abs = x < 0 ? -x : x;
  if (abs >= 1e-4 && abs < 1e16) {
    // Fast path (most values): both languages write plain decimals here; only Python's ".0" differs.
    const s = String(x);
    return s.includes('.') ? s : `${s}.0`;
  }
  const sign = x < 0 ? '-' : '';
  const { digits, exponent } = shortestDigits(Math.abs(x));
  // `exponent` is the scientific exponent: x = d.ddd * 10^exponent.
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
    const e = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const intLen = exponent + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

/** The shortest round-trip digits of a positive finite double (no leading/trailing zeros) and its exponent. */
function shortestDigits(x: number): { digits: string; exponent: number } {
  const s = String(x); // "123.45", "1e-7", "1.5e+21", "0.000123"
  const eAt = s.indexOf('e');
  const mantissa = eAt < 0 ? s : s.slice(0, eAt);
  const exp10 = eAt < 0 ? 0 : Number(s.slice(eAt + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const fracPart = dot < 0 ? '' : mantissa.slice(dot + 1);
  let all = intPart + fracPart;
  // Position of the decimal point within `all`, before stripping leading zeros.
  let pointAt = intPart.length + exp10;
  const lead = all.length - all.replace(/^0+/, '').length;
  all = all.slice(lead);
  pointAt -= lead;
  all = all.replace(/0+$/, '');
  return { digits: all, exponent: pointAt - 1 };
}
