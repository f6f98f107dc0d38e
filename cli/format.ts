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
