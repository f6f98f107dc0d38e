/** mdpipe's version, from package.json (two folders up from the compiled `dist/cli/`, one from `cli/`). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function toolVersion(): string {
  if (cached !== undefined) return cached;
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mdpipe' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // not there: try the next layout
    }
  }
  return (cached = 'unknown');
}
