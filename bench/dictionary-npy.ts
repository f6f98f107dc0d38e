/**
 * How long writing one collection's dictionary.npy takes (the published basic grid: 1,690 entries), next to
 * dictionary.json's specialised writer, and optionally next to another build of mdpipe (a "before" build),
 * in one run so the figures share the machine's load.
 *
 *   npm run build --silent && node dist/bench/dictionary-npy.js [iterations] [--baseline OTHER/dist]
 *
 * Entries are generated once up front (the grid read and the rfi are not what is measured). Prints the
 * median, min and max of wall ms per collection once the JIT is warm, then the median of the first call in
 * fresh processes (what one `mdpipe` run exporting a collection pays: V8 has not optimised the writer yet),
 * and checks that every writer measured gives the same bytes. (A full GC between calls was tried and
 * dropped: it clears V8's type feedback, so the next call deoptimises and runs ~5x slower for every writer.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dictionaryEntries, dictionaryToBytes, type DictionaryEntry } from '../dataset/dictionary.js';
import { dictionaryToNpy } from '../dataset/dictionary-npy.js';
import { readPublishedGrid } from '../dataset/published-grid.js';

const args = process.argv.slice(2);
const firstCallAt = args.indexOf('--first-call-of');
const firstCallOf = firstCallAt >= 0 ? args.splice(firstCallAt, 2)[1] : undefined;
const baselineAt = args.indexOf('--baseline');
const baseline = baselineAt >= 0 ? resolve(args.splice(baselineAt, 2)[1]) : undefined;
const iterations = Number(args[0] ?? 30);

const gridFile = resolve('../shared/reference/published/metric_grid_13_13_10_public.npy');
if (!existsSync(gridFile)) {
  console.error(`bench/dictionary-npy: no ${gridFile} (the published grid is needed)`);
  process.exit(2);
}
const entries: [string, DictionaryEntry][] = [...dictionaryEntries(readPublishedGrid(readFileSync(gridFile), gridFile))];

type Writer = (d: Iterable<readonly [string, DictionaryEntry]>) => Uint8Array;
const here = fileURLToPath(new URL('..', import.meta.url));

if (firstCallOf !== undefined) {
  // Child mode: time this process's first call of one build's writer, print ms, and leave.
  const w = (await import(resolve(firstCallOf, 'dataset/dictionary-npy.js'))) as { dictionaryToNpy: Writer };
  const t0 = performance.now();
  w.dictionaryToNpy(entries);
  console.log(performance.now() - t0);
  process.exit(0);
}
const writers: [string, Writer][] = [['dictionary.npy (this build)', dictionaryToNpy]];
if (baseline !== undefined) {
  const old = (await import(resolve(baseline, 'dataset/dictionary-npy.js'))) as { dictionaryToNpy: Writer };
  writers.unshift(['dictionary.npy (baseline)', old.dictionaryToNpy]);
}
writers.push(['dictionary.json (reference)', dictionaryToBytes]);

const first = writers.map(([, w]) => w(entries));
for (let i = 1; i < first.length - 1; i++) {
  if (Buffer.compare(first[0], first[i]) !== 0) throw new Error(`${writers[i][0]} writes other bytes than ${writers[0][0]}`);
}

/** Interleaved rounds, so a burst of load on the shared machine hits every writer alike. */
const times: number[][] = writers.map(() => []);
for (let round = 0; round < iterations; round++) {
  writers.forEach(([, w], i) => {
    const t0 = performance.now();
    w(entries);
    times[i].push(performance.now() - t0);
  });
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x: number): string => x.toFixed(2).padStart(9);
console.log(`${entries.length} entries, ${first[0].length} bytes of .npy; ${iterations} interleaved rounds after one warm-up\n`);
console.log(`${''.padEnd(30)}  median ms     min ms     max ms`);
const medians = times.map(median);
writers.forEach(([name], i) => console.log(`${name.padEnd(30)} ${fmt(medians[i])} ${fmt(Math.min(...times[i]))} ${fmt(Math.max(...times[i]))}`));
if (baseline !== undefined) console.log(`\nbaseline / this build (median): ${(medians[0] / medians[1]).toFixed(1)}x`);

const builds: [string, string][] = [['this build', here]];
if (baseline !== undefined) builds.unshift(['baseline', baseline]);
const firstCalls: number[][] = builds.map(() => []);
const coldRounds = Math.max(3, Math.min(9, Math.round(iterations / 5)));
for (let round = 0; round < coldRounds; round++) {
  builds.forEach(([, dist], i) => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--first-call-of', dist], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`first-call child failed: ${child.stderr}`);
    firstCalls[i].push(Number(child.stdout.trim()));
  });
}
console.log(`\nfirst call in a fresh process (${coldRounds} processes each, interleaved)   median ms     min ms`);
builds.forEach(([name], i) => console.log(`dictionary.npy (${name})`.padEnd(30) + ' '.repeat(40) + `${fmt(median(firstCalls[i]))} ${fmt(Math.min(...firstCalls[i]))}`));
