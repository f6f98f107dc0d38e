/**
 * A fixed-seed xorshift32 generator for tests: "random" bytes and fuzz cases are the same on every run, so
 * a failure is reproducible from its seed.
 */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}
