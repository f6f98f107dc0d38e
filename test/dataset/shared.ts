/**
 * Where the read-only reference files are (`../shared/reference`, next to the project), and a `describe`
 * that skips, saying so, when they are absent. Nothing from there is ever copied into the project.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REFERENCE = fileURLToPath(new URL('../../../shared/reference/', import.meta.url));
export const hasReference = existsSync(REFERENCE);

/** `describe` when ../shared/reference exists; otherwise a skipped block and a visible warning. */
export function describeIfShared(name: string, fn: () => void): void {
  if (hasReference) {
    describe(name, fn);
  } else {
    const message = `skipping "${name}": ../shared absent (${REFERENCE})`;
    // stderr directly: jest does not show console output of a file whose tests are all skipped.
    process.stderr.write(`${message}\n`);
    // Not describe.skip(name, fn): jest still runs a skipped block's body, which reads the files.
    describe(name, () => test.skip(message, () => {}));
  }
}

/** a and b equal within a relative 1e-12, NaN equal to NaN. */
export function closeRel(a: number, b: number, rel = 1e-12): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}
