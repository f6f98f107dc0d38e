/**
 * A usage problem the CLI finds itself (commander finds the others): what was wrong and what to type
 * instead. Printed without a stack; exit code 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}\n  fix: ${fix}`);
  }
}
