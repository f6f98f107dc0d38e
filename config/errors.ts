/**
 * A configuration problem a person can fix: which key, what is wrong, what to do. The CLI prints the
 * message and exits with code 2 (usage or configuration error).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Path of the configuration file, when the problem is in one (not in the built-in default). */
  file?: string;
  constructor(
    /** Dotted key path (`collections.basic.layout`), or `(config)` for the file as a whole. */
    readonly key: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${key}: ${problem}\n  fix: ${fix}`);
  }

  /** Names the file the key came from (the loader knows it; the checks do not). */
  inFile(file: string): this {
    this.file = file;
    this.message = `${file}: ${this.key}: ${this.problem}\n  fix: ${this.fix}`;
    return this;
  }
}
