/**
 * The generator's one error: what was asked that cannot be done, and what to do instead. The CLI prints
 * the message (no stack) and exits with code 2, like a configuration error.
 */
export class SynthError extends Error {
  override readonly name = 'SynthError';
  constructor(
    readonly problem: string,
    readonly fix: string,
    /** The file or folder concerned, when there is one (the grid file, the output folder). */
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${problem}\n  fix: ${fix}`);
  }
}
