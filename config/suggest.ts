/** "Did you mean" for configuration keys (the matching itself is the engine's `closeMatches`). */
import { closeMatches } from '../pipeline/suggest.js';

/** `; did you mean "x"?` or the empty string. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const [best] = closeMatches(input, candidates, 1);
  return best === undefined ? '' : `; did you mean "${best}"?`;
}
