/**
 * The read-only reference files next to the project (`../shared/reference`), and the one `describe` that
 * skips, saying so in one plain line, when something a block needs is absent. Nothing from there is ever
 * copied into the project.
 *
 * The skip is a real skip: `describe.skip(name, fn)` would still run the block's body (jest collects the
 * tests inside it), which reads the files; here the body is never called. The notice goes straight to
 * stderr as one plain line, because jest hides the console output of a file whose tests are all skipped
 * and prints `console.warn` as a coloured code frame.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

/** `../shared` next to the project; MDPIPE_SHARED overrides it (to check the skipping). */
export const SHARED = resolve(process.env.MDPIPE_SHARED ?? fileURLToPath(new URL('../../../shared/', import.meta.url)));
export const REFERENCE = join(SHARED, 'reference');
export const RAW_SAMPLE = join(REFERENCE, 'raw-sample');
export const PUBLISHED = join(REFERENCE, 'published');
export const PUBLISHED_GRID = join(PUBLISHED, 'metric_grid_13_13_10_public.npy');
export const SAMPLE_FOLDER = join(RAW_SAMPLE, 'different_knobs_subset_10/bs_364/lr_decay/ResNet18_w45/metrics');

export const hasReference = existsSync(RAW_SAMPLE) && existsSync(PUBLISHED);

/** `describe` when `present`, else a block whose body never runs, one skipped test and one plain line on stderr. */
export function describeIf(present: boolean, why: string, name: string, fn: () => void): void {
  if (present) {
    describe(name, fn);
    return;
  }
  describe(name, () => skipVisibly(name, why));
}

/** One skipped test named `skipping "<name>": <why>`, and the same as one plain line on stderr. */
export function skipVisibly(name: string, why: string): void {
  const message = `skipping "${name}": ${why}`;
  process.stderr.write(`${message}\n`);
  test.skip(message, () => {});
}

/** `describe` when ../shared/reference (raw sample and published files) is there. */
export function describeIfShared(name: string, fn: () => void): void {
  describeIf(hasReference, `../shared absent (looked for ${REFERENCE})`, name, fn);
}

export const PYTHON = '/usr/bin/python3';
let numpy: boolean | undefined;
/** Whether /usr/bin/python3 imports numpy (asked once per test file, only by the files that need it). */
export function hasNumpy(): boolean {
  numpy ??= existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore', timeout: 30000 }).status === 0;
  return numpy;
}

/** `describe` when /usr/bin/python3 can import numpy. */
export function describeIfNumpy(name: string, fn: () => void): void {
  describeIf(hasNumpy(), `${PYTHON} with numpy is not available`, name, fn);
}

/** a and b equal within a relative `rel` of the larger magnitude, NaN equal to NaN. */
export function closeRel(a: number, b: number, rel = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}
