/** "Did you mean" suggestions for unknown ids, targets, keys and verbs: the closest candidates by edit distance. */
import { distance } from 'fastest-levenshtein';

/** Up to `limit` candidates close to `wanted` (within a third of its length), closest first. */
export function closeMatches(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(2, Math.ceil(wanted.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    const d = candidate.startsWith(wanted) || wanted.startsWith(candidate) ? 1 : distance(wanted, candidate);
    if (d <= threshold) scored.push([d, candidate]);
  }
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));
  return scored.slice(0, limit).map(([, candidate]) => candidate);
}

/** `; did you mean "x"?` (the closest candidate), or the empty string when none is close. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const [best] = closeMatches(input, candidates, 1);
  return best === undefined ? '' : `; did you mean "${best}"?`;
}
