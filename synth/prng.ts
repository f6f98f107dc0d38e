/**
 * Seeded pseudo-random numbers for the synthetic-data generator.
 *
 * Hand-written rather than a library: the generator needs ~15 lines (a 32-bit sfc32 stream plus a
 * Box-Muller normal), and the one well-kept npm PRNG (pure-rand) would add a runtime dependency for
 * that alone. What matters here is not statistical quality but determinism: every checkpoint folder gets
 * its own stream, derived from (seed, collection, bs, width, data) by SHA-256, so a folder's bytes do
 * not depend on the write order, on the concurrency, or on which other folders the axes select (a cell
 * written as part of the small axes is byte-identical to the same cell written as part of the full axes).
 */
import { createHash } from 'node:crypto';

/** A stream of pseudo-random numbers. */
export interface Rng {
  /** Uniform in [0, 1), 32 bits of randomness. */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (mean 0, sd 1). */
  normal(): number;
  /** A fresh, independent stream for a named purpose (so adding a draw in one place does not shift another). */
  fork(label: string): Rng;
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) from four 32-bit words. */
function sfc32(a: number, b: number, c: number, d: number, label: string): Rng {
  const state = { a, b, c, d };
  const next = (): number => {
    let { a, b, c, d } = state;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    Object.assign(state, { a, b, c, d });
    return (t >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: () => {
      // Box-Muller; 1 - u keeps the log's argument in (0, 1].
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    fork: (sub) => rngFromKey(`${label}/${sub}`),
  };
  // Discard the first outputs: sfc32's authors advise it, so nearby seeds decorrelate.
  for (let i = 0; i < 12; i++) next();
  return rng;
}

/** A stream determined by a text key (hashed with SHA-256; the same key always gives the same stream). */
export function rngFromKey(key: string): Rng {
  const h = createHash('sha256').update(key).digest();
  return sfc32(h.readInt32LE(0), h.readInt32LE(4), h.readInt32LE(8), h.readInt32LE(12), key);
}
