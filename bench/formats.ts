/**
 * How long the format readers take on one checkpoint folder (5 pickles + 1 npz), from memory.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/formats.js [folder] [iterations]
 *
 * The folder defaults to one of ../shared/reference/raw-sample. Prints CPU and wall µs per folder for the
 * way the metric extractor reads it (npz: only `tr_err`), for a full read of the npz, and per file.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readNpyObject, readNpz, readPickle } from '../formats/index.js';

const DEFAULT_FOLDER = '../shared/reference/raw-sample/different_knobs_subset_10/bs_364/lr_decay/ResNet18_w45/metrics';
const folder = resolve(process.argv[2] ?? DEFAULT_FOLDER);
const iterations = Number(process.argv[3] ?? 20000);

if (!existsSync(folder)) {
  console.error(`bench/formats: no folder ${folder}; pass a checkpoint metrics folder as the first argument`);
  process.exit(2);
}

const files = readdirSync(folder)
  .filter((f) => f.endsWith('.pkl') || f.endsWith('.npz'))
  .map((name) => ({ name, bytes: readFileSync(join(folder, name)) as Uint8Array }));

type Reader = (f: { name: string; bytes: Uint8Array }) => unknown;
const extractorRead: Reader = (f) => (f.name.endsWith('.npz') ? readNpz(f.bytes, f.name, { only: ['tr_err'] }) : readPickle(f.bytes, f.name));
const fullRead: Reader = (f) => (f.name.endsWith('.npz') ? readNpz(f.bytes, f.name) : readPickle(f.bytes, f.name));

/** Runs `fn` over `items` `n` times after a warm-up; returns µs of CPU and wall time per pass. */
function measure(items: typeof files, fn: Reader, n: number): { cpu: number; wall: number } {
  for (let i = 0; i < Math.min(2000, n); i++) for (const f of items) fn(f);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) for (const f of items) fn(f);
  const wall = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / n, wall };
}

const fmt = (x: number): string => x.toFixed(1).padStart(8);
console.log(`folder: ${folder}`);
console.log(`files: ${files.map((f) => `${f.name} (${f.bytes.length} B)`).join(', ')}`);
console.log(`iterations: ${iterations}\n`);
console.log('                                   cpu µs   wall µs');
const ex = measure(files, extractorRead, iterations);
console.log(`per folder, as the extractor reads  ${fmt(ex.cpu)}  ${fmt(ex.wall)}`);
const full = measure(files, fullRead, Math.ceil(iterations / 4));
console.log(`per folder, npz read in full        ${fmt(full.cpu)}  ${fmt(full.wall)}`);
for (const f of files) {
  const r = measure([f], extractorRead, iterations);
  console.log(`  ${f.name.padEnd(32)} ${fmt(r.cpu)}  ${fmt(r.wall)}`);
}

const published = resolve('../shared/reference/published/dict_13_13_10_normal_public.npy');
if (existsSync(published)) {
  const bytes = readFileSync(published) as Uint8Array;
  const r = measure([{ name: published, bytes }], (f) => readNpyObject(f.bytes, f.name), 5);
  console.log(`\npublished dictionary (${(bytes.length / 1e6).toFixed(1)} MB)   ${fmt(r.cpu / 1000)}  ${fmt(r.wall / 1000)}  (ms)`);
}
