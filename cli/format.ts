/**
 * How the CLI writes numbers, sizes, durations and paths for people: `1,690`, `18.7 MB`, `7.1 s`,
 * `demo/out/basic` (relative to the working directory when that is shorter).
 */
import path from 'node:path';
import { countText } from '../util/count-text.js';

/** An integer with thousands separators: 1,690. */
export const count = countText;

/** `1 task`, `2 tasks`. */
export const plural = (n: number, word: string, many = `${word}s`): string => `${count(n)} ${n === 1 ? word : many}`;

/** Bytes in decimal units (the ones `--max-size` accepts): 512 B, 18.7 MB. */
export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Milliseconds as `850 ms`, `7.1 s` or `2 min 5 s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** A path as a person would type it from the working directory: relative if inside it, else absolute. */
export function displayPath(p: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, p);
  if (rel === '') return '.';
  return rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

/** JSON with two-space indentation, arrays of plain values kept on one line (axes read better that way). */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`);
}

/**
 * `items` sorted by their names, digit runs compared as numbers, so `bs16` < `bs128` < `bs1024` (plain
 * string order puts bs1024 first). Written out: `Intl.Collator`'s numeric mode loads ICU's locale data on
 * first use (26-37 ms, see util/count-text.ts) for what is a few lines here. Each name is split into runs
 * once: a sort compares each item ~2 log2 n times, and splitting at every comparison made sorting the ids
 * of a cold build's summary (two groups of 1,690) take 25-38 ms, against 12-14 ms now.
 */
export function sortedByNumbers<T>(items: readonly T[], name: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, runs: runsOf(name(item)) }))
    .sort((a, b) => compareRuns(a.runs, b.runs))
    .map(({ item }) => item);
}

/** A name's digit and non-digit runs: `bs16-w2` -> `bs`, `16`, `-w`, `2`. */
function runsOf(name: string): string[] {
  return name.match(/\d+|\D+/g) ?? [];
}

function compareRuns(x: readonly string[], y: readonly string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const dx = /^\d/.test(x[i]);
    const dy = /^\d/.test(y[i]);
    if (dx && dy) return Number(x[i]) - Number(y[i]) || x[i].length - y[i].length;
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/** Up to `shown` names, then `(+K more)`: `a, b, c (+7 more)`. */
export function foldedList(names: readonly string[], shown = 5): string {
  const head = names.slice(0, shown).join(', ');
  return names.length > shown ? `${head} (+${count(names.length - shown)} more)` : head;
}
