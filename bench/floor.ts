/**
 * The floors the benchmark compares mdpipe against, each run as its own `node` process (start-up included,
 * as for `mdpipe run`): what the machine needs at least to read, or to stat, every raw file.
 *
 *   node dist/bench/floor.js read LIST     reads every file named in LIST (one path a line)
 *   node dist/bench/floor.js stat LIST     stats every file named in LIST
 *   node dist/bench/floor.js walk ROOT...  walks each root (readdir) and stats every file found
 *
 * Synchronous calls on purpose: for thousands of small files they are the fastest Node offers here (no
 * thread-pool round trip per call), so the floor is a real floor. Prints the count of files and bytes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [mode, ...args] = process.argv.slice(2);

function listed(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);
}

let files = 0;
let bytes = 0;
if (mode === 'read') {
  for (const path of listed(args[0])) {
    bytes += readFileSync(path).byteLength;
    files++;
  }
} else if (mode === 'stat') {
  for (const path of listed(args[0])) {
    bytes += Number(statSync(path, { bigint: true }).size);
    files++;
  }
} else if (mode === 'walk') {
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        bytes += Number(statSync(path, { bigint: true }).size);
        files++;
      }
    }
  };
  for (const root of args) walk(root);
} else {
  process.stderr.write('usage: floor.js read|stat LIST  or  floor.js walk ROOT...\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ files, bytes })}\n`);
