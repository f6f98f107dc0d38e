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
 *
 * Then the patch of a rebuild where one configuration changed (`patchDictionaryNpy`) against the full
 * write it replaces (`dictionaryEntries` over the grid + `dictionaryToNpy`, what the export task paid),
 * interleaved: a NaN configuration getting values (its label goes from None to a tuple: every later memo
 * index moves) and one configuration's test_acc changing (the entries on its three lines re-written).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dictionaryEntries, dictionaryToBytes, type DictionaryEntry } from '../dataset/dictionary.js';
import { dictionaryToNpy, patchDictionaryNpy } from '../dataset/dictionary-npy.js';
import { cellIndex, type Grid } from '../dataset/grid.js';
import { METRIC_NAMES } from '../dataset/metrics.js';
import { readPublishedGrid } from '../dataset/published-grid.js';

const args = process.argv.slice(2);
const firstPatchAt = args.indexOf('--first-patch');
const firstPatch = firstPatchAt >= 0 ? args.splice(firstPatchAt, 2)[1] : undefined;
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
const grid = readPublishedGrid(readFileSync(gridFile), gridFile);
const entries: [string, DictionaryEntry][] = [...dictionaryEntries(grid)];

// One configuration changed (measured at the end): the cases, and the child mode timing a first call.
const withCell = (g: Grid, at: number, set: (m: (typeof METRIC_NAMES)[number]) => number): Grid => {
  const metrics = Object.fromEntries(METRIC_NAMES.map((m) => [m, Float64Array.from(g.metrics[m])])) as Grid['metrics'];
  for (const m of METRIC_NAMES) metrics[m][at] = set(m);
  return { axes: g.axes, metrics };
};
const middle = cellIndex(grid.axes, 6, 6, 5);
const cases: [string, Grid, Grid][] = [
  // A NaN cell has no improvements (label None); its neighbours' entries change too.
  ['NaN configuration gets values', withCell(grid, middle, () => NaN), grid],
  ["one configuration's test_acc changes", grid, withCell(grid, middle, (m) => (m === 'test_acc' ? grid.metrics.test_acc[middle] + 1 : grid.metrics[m][middle]))],
];
const fullWrite = (g: Grid): Uint8Array => dictionaryToNpy(dictionaryEntries(g));
if (firstPatch !== undefined) {
  // Child mode: this process's first full write or first patch of case `n` (what one rebuild pays), in ms;
  // the previous file is read from where the parent wrote it, as a rebuild reads it from the store.
  const [kind, n, file] = firstPatch.split(':');
  const [, before, after] = cases[Number(n)];
  const previous = { grid: before, npy: readFileSync(file) };
  const t0 = performance.now();
  if (kind === 'patch') patchDictionaryNpy(previous, after);
  else fullWrite(after);
  console.log(performance.now() - t0);
  process.exit(0);
}

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

// ---------------------------------------------------------------- one configuration changed: patch vs full

console.log(`\none configuration changed on ${grid.axes.bs.length} x ${grid.axes.width.length} x ${grid.axes.data.length} axes: full write vs patch, ${iterations} interleaved rounds`);
console.log(`${''.padEnd(40)}  full median   patch median   patch min   (ms)`);
for (const [name, before, after] of cases) {
  const previous = { grid: before, npy: fullWrite(before) };
  const patched = patchDictionaryNpy(previous, after);
  if (patched === null || Buffer.compare(patched, fullWrite(after)) !== 0) throw new Error(`${name}: the patch does not give the full write's bytes`);
  const [fullTimes, patchTimes]: number[][] = [[], []];
  for (let round = 0; round < iterations; round++) {
    let t0 = performance.now();
    fullWrite(after);
    fullTimes.push(performance.now() - t0);
    t0 = performance.now();
    patchDictionaryNpy(previous, after);
    patchTimes.push(performance.now() - t0);
  }
  console.log(`${name.padEnd(40)} ${fmt(median(fullTimes))}      ${fmt(median(patchTimes))}   ${fmt(Math.min(...patchTimes))}   (${patched.length - previous.npy.length} bytes longer)`);
}
console.log(`\nfirst patch in a fresh process, after the previous file was written there (${coldRounds} processes each)   full median   patch median`);
const work = mkdtempSync(join(tmpdir(), 'mdpipe-bench-npy-'));
cases.forEach(([name, before], n) => {
  const file = join(work, `previous-${n}.npy`);
  writeFileSync(file, fullWrite(before));
  const firsts: number[][] = [[], []];
  for (let round = 0; round < coldRounds; round++) {
    (['full', 'patch'] as const).forEach((kind, i) => {
      const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--first-patch', `${kind}:${n}:${file}`], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`first-patch child failed: ${child.stderr}`);
      firsts[i].push(Number(child.stdout.trim()));
    });
  }
  console.log(`${name.padEnd(40)} ${fmt(median(firsts[0]))}      ${fmt(median(firsts[1]))}`);
});
rmSync(work, { recursive: true, force: true });
