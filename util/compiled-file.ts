/**
 * The compiled file a worker thread (or another module loaded by URL) runs, found from the code asking for
 * it. The same code runs as the esbuild bundle (dist/bundle/main.cjs), as the plain tsc output (dist/...)
 * and from the TypeScript sources under jest, and each sees the file at another relative path; the first
 * candidate that exists is it. Undefined when none does (the caller then does the work itself).
 */
import { existsSync } from 'node:fs';

export function compiledFile(base: string, candidates: readonly string[]): URL | undefined {
  return candidates.map((rel) => new URL(rel, base)).find((url) => existsSync(url));
}
