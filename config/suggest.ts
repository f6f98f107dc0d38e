/** "Did you mean" for keys, verbs and task ids: the closest candidate by edit distance, if close enough. */
import { closest, distance } from 'fastest-levenshtein';

export function suggest(input: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const best = closest(input, candidates as string[]);
  const limit = Math.max(2, Math.floor(best.length / 3));
  return distance(input.toLowerCase(), best.toLowerCase()) <= limit ? best : undefined;
}

/** `; did you mean "x"?` or the empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}
