/** Shared helpers for the format tests: where the reference samples are, and whether Python+numpy is there. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { FormatError, type FormatErrorReason } from '../../formats/errors.js';

/** `../shared` relative to the project root (jest runs from there); MDPIPE_SHARED overrides it (to check skipping). */
export const SHARED = resolve(process.env.MDPIPE_SHARED ?? resolve(process.cwd(), '../shared'));
export const RAW_SAMPLE = resolve(SHARED, 'reference/raw-sample');
export const PUBLISHED = resolve(SHARED, 'reference/published');
export const SAMPLE_FOLDER = resolve(RAW_SAMPLE, 'different_knobs_subset_10/bs_364/lr_decay/ResNet18_w45/metrics');

export const hasShared = existsSync(RAW_SAMPLE) && existsSync(PUBLISHED);

/** `describe` when ../shared is present, else a visibly skipped block. */
export function describeIfShared(name: string, fn: () => void): void {
  if (hasShared) {
    describe(name, fn);
  } else {
    console.warn(`skipping "${name}": ../shared absent (looked for ${RAW_SAMPLE})`);
    describe.skip(name, fn);
  }
}

export const PYTHON = '/usr/bin/python3';
export const hasNumpy =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 30000 }).status === 0;

/** `describe` when /usr/bin/python3 can import numpy, else a visibly skipped block. */
export function describeIfNumpy(name: string, fn: () => void): void {
  if (hasNumpy) {
    describe(name, fn);
  } else {
    console.warn(`skipping "${name}": ${PYTHON} with numpy is not available`);
    describe.skip(name, fn);
  }
}

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
