/** Helpers of the format tests: expecting a typed FormatError. */
import { FormatError, type FormatErrorReason } from '../../formats/index.js';

/** Runs `fn`, which must throw a FormatError; returns it. Any other outcome fails the test with a clear message. */
export function formatErrorOf(fn: () => unknown): FormatError {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  throw new Error(`expected a FormatError, but it returned ${String(result)}`);
}

/** Asserts `fn` throws a FormatError with `reason`, and returns it for further checks. */
export function expectFormatError(fn: () => unknown, reason: FormatErrorReason): FormatError {
  const e = formatErrorOf(fn);
  expect(e.reason).toBe(reason);
  return e;
}
