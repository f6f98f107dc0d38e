/**
 * Bounds on the work and memory a reader spends on one file, so that a hostile or corrupt file fails fast
 * with `FormatError('limit-exceeded')` instead of exhausting the process. The defaults are generous for the files
 * mdpipe reads (the largest, the published dictionary, is 2 MB, nests 6 levels and holds ~10^5 elements).
 */
export interface ReadLimits {
  /** Deepest nesting of containers (lists, tuples, dicts, object arrays) and of pickle MARKs. */
  maxDepth: number;
  /** Most memo entries a pickle may store. */
  maxMemo: number;
  /**
   * Most container elements, counted as a consumer walking the result would meet them (a list stored once and
   * referenced twice counts twice, so a small file cannot expand into an astronomically large structure).
   */
  maxElements: number;
  /** Most bytes allocated for strings, byte strings, integers and array data (including inflated zip members). */
  maxBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ReadLimits> = Object.freeze({
  maxDepth: 100,
  maxMemo: 10_000_000,
  maxElements: 10_000_000,
  maxBytes: 1024 * 1024 * 1024,
});

/** Fills the limits the caller left out with the defaults. */
export function resolveLimits(limits?: Partial<ReadLimits>): ReadLimits {
  if (limits === undefined) return DEFAULT_LIMITS as ReadLimits;
  return { ...DEFAULT_LIMITS, ...limits };
}
