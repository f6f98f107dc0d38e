/**
 * Parsers for option values: positive integers (`--jobs 4`), sizes (`--max-size 500MB`) and ages
 * (`--max-age 30d`). Hand-written: each is one regular expression, and a library for it (bytes, ms) would
 * add a dependency for less than the error messages we want (which say what was given and what works).
 * Each throws commander's InvalidArgumentError, which commander reports as `error: option '...' argument
 * '...' is invalid. <message>` and which the CLI turns into exit code 2.
 */
import { InvalidArgumentError } from 'commander';

/** `--jobs N`, `--seed N`, `--max-nodes N`. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a positive whole number, like 4.`);
  }
  return n;
}

/** A non-negative integer (`--seed 0`). */
export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number, like 0 or 7.');
  return n;
}

// No bare number: `--max-size 10` once meant 10 bytes and emptied a whole cache without asking.
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** `500MB`, `1.5 GB`, `200kB`, `2GiB`, `1000B`: a unit is required. Decimal units are powers of 1000, `*iB` of 1024. */
export function size(value: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const factor = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (m && m[2] === '') throw new InvalidArgumentError(`a size needs a unit: ${m[1]}MB, ${m[1]}GB or ${m[1]}B (bytes).`);
  if (!m || factor === undefined) throw new InvalidArgumentError('expected a size such as 500MB, 2GB, 800kB or 1GiB.');
  return Math.floor(Number(m[1]) * factor);
}

const AGE_UNITS: Record<string, number> = {
  s: 1e3, m: 60e3, min: 60e3, h: 3600e3, d: 86_400e3, w: 7 * 86_400e3,
};

/** `30d`, `12h`, `90m` (minutes), `2w`, `45s`, as milliseconds. */
export function age(value: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*$/.exec(value);
  const factor = m ? AGE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new InvalidArgumentError('expected an age such as 30d, 12h, 90m or 2w (s, m, h, d, w).');
  return Math.round(Number(m[1]) * factor);
}
