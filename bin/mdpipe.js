#!/usr/bin/env node
// The `mdpipe` command: a thin shim over the compiled CLI in dist/ (built by `npm run build`, which
// `npm ci`, `npm start` and `npm test` run). Kept tiny: start-up time is part of every command.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mdpipe: the compiled CLI (dist/cli/main.js) is missing: run npm run build\n');
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
