/**
 * How long writing one collection's dictionary.npy takes (the published basic grid: 1,690 entries), next to
 * dictionary.json's specialised writer, and optionally next to another build of mdpipe (a "before" build),
 * in one run so the figures share the machine's load.
 *
 *   npm run build --silent && node --expose-gc dist/bench/dictionary-npy.js [iterations] [--baseline OTHER/dist]
 *
 * Entries are generated once up front (the grid read and the rfi are not what is measured). Prints the
 * median, min and max of wall ms per collection, and checks that every writer measured gives the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { dictionaryEntries, dictionaryToBytes, type DictionaryEntry } from '../dataset/dictionary.js';
import { dictionaryToNpy } from '../dataset/dictionary-npy.js';
import { readPublishedGrid } from '../dataset/published-grid.js';

const args = process.argv.slice(2);
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

/**
 * Interleaved rounds, so a burst of load on the shared machine hits every writer alike; with --expose-gc a
 * full collection before each call, so one writer's garbage is not collected on the next one's time.
 */
const gc = (globalThis as { gc?: () => void }).gc;
const times: number[][] = writers.map(() => []);
for (let round = 0; round < iterations; round++) {
  writers.forEach(([, w], i) => {
    gc?.();
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
console.log(`${entries.length} entries, ${first[0].length} bytes of .npy; ${iterations} interleaved rounds after one warm-up, ${gc ? 'full GC before each call' : 'no GC between calls (run node --expose-gc for that)'}\n`);
console.log(`${''.padEnd(30)}  median ms     min ms     max ms`);
const medians = times.map(median);
writers.forEach(([name], i) => console.log(`${name.padEnd(30)} ${fmt(medians[i])} ${fmt(Math.min(...times[i]))} ${fmt(Math.max(...times[i]))}`));
if (baseline !== undefined) console.log(`\nbaseline / this build (median): ${(medians[0] / medians[1]).toFixed(1)}x`);
