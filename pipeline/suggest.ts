/**
 * "Did you mean" suggestions for unknown ids and targets: the closest candidates by edit distance.
 * Hand-written (no direct dependency offers it): candidates are a few thousand short ids, so a plain
 * O(n·m) Levenshtein distance costs milliseconds.
 */

/** Levenshtein distance with a row buffer. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

/** Up to `limit` candidates close to `wanted` (within a third of its length), closest first. */
export function closeMatches(wanted: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = Math.max(2, Math.ceil(wanted.length / 3));
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    const distance = candidate.startsWith(wanted) || wanted.startsWith(candidate) ? 1 : editDistance(wanted, candidate);
    if (distance <= threshold) scored.push([distance, candidate]);
  }
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));
  return scored.slice(0, limit).map(([, candidate]) => candidate);
}
