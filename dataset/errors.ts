/**
 * Errors of the dataset code: a file whose content parses but is not shaped like the metric files (or
 * the published grid) SEMANTICS.md describes, and inputs the dataset functions cannot make sense of. Each
 * names the file, says what was expected and what was found, and what to do.
 */

/** A metric file (or published grid) parsed, but its content is not the structure SEMANTICS.md describes. */
export class MetricsStructureError extends Error {
  override readonly name = 'MetricsStructureError';
  /** Same code as `FormatError`'s reason for the same kind of problem, so callers can treat both alike. */
  readonly reason = 'bad-structure';
  constructor(
    /** Full path of the file. */
    readonly file: string,
    /** What SEMANTICS.md says should be there, Python-style (`{seed: {'accuracy': float, ...}}`). */
    readonly expected: string,
    /** What is there (`a list`, `a str 'abc'`). */
    readonly found: string,
    /** Where in the file, Python-style (`at the top level`, `at [3]['accuracy']`). */
    readonly where: string,
    readonly fix: string = 'check that this is the file loss_landscape_taxonomy wrote (not a truncated or hand-edited copy); regenerate it or remove it (an absent file gives NaN metrics)',
  ) {
    super(`${file}: unexpected structure: expected ${expected}, found ${found} ${where}\n  fix: ${fix}`);
  }
}

/** Inputs to a dataset function that contradict each other (two folders for one configuration, say). */
export class DatasetInputError extends Error {
  override readonly name = 'DatasetInputError';
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}\n  fix: ${fix}`);
  }
}
