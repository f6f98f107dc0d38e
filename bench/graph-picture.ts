/**
 * `npm run build --silent && node dist/bench/graph-picture.js [--reps N]`: what `writeRunPages` (the run
 * page, graph.svg and index.html written after every run) costs after a run that changed a folded count,
 * with the layout kept per structure (cli/graph-layout.ts) against laying the graph out again, at 2
 * collections (the published pair) and at 20 (issue 10's 10x). Nothing is asserted.
 *
 * One small synthetic tree (18 folders) serves every collection: the kind graph, and so the picture, has
 * the same nodes as on full-size trees (7 per collection), whatever the folders hold. Two configurations
 * over it differ in one collection's batch sizes (18 vs 12 folders: the same width of count, as 1,689 vs
 * 1,690), each built once by its own engine; the pages are then written alternately from the two, so
 * every call sees a changed count. Per repetition, in rotating order, in one process:
 *   kept     writeRunPages with the layout kept in the cache folder (the new path)
 *   miss     writeRunPages with no layout kept and Graphviz unloaded: what every count change cost before
 *            (WebAssembly load + layout), plus writing the layout file
 *   fill     the picture alone from the kept layout (drawTemplate: read, check, fill; no page written)
 *   render   the old render alone: Graphviz unloaded, then the real DOT laid out (no files)
 *   process  the old render in a fresh Node process (timed inside it): what a CLI run pays. In one
 *            process V8 keeps the compiled WebAssembly after Graphviz.unload(), so `miss` and `render`
 *            show less than a run's first load (measured here ~160 ms of a run's ~310 ms, full size).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDefaultStore } from '../cache/default-store.js';
import { drawTemplate, pictureTemplate } from '../cli/graph-layout.js';
import { dotToSvg, fillDot, type NodeStatus } from '../cli/graph-picture.js';
import { writeRunPages } from '../cli/run-pages.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { openEngine, type Engine, type RunResult } from '../pipeline/index.js';
import { SMALL_AXES, synthesize } from '../synth/index.js';
import { defineDataset } from '../tasks/index.js';
import { importEsm } from '../util/import-esm.js';
import { median } from './table.js';

const args = process.argv.slice(2);
const at = args.indexOf('--reps');
const REPS = at >= 0 ? Number(args[at + 1]) : 5;
const ROOT = join(tmpdir(), 'mdpipe-bench-graph-picture');
const RAW = join(ROOT, 'raw');
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

type Variant = 'kept' | 'miss' | 'fill' | 'render' | 'process';
const VARIANTS: Variant[] = ['kept', 'miss', 'fill', 'render', 'process'];
const PICTURE_MODULE = fileURLToPath(new URL('../cli/graph-picture.js', import.meta.url));
/** A child process that loads Graphviz and lays out the DOT in `file`, printing the milliseconds. */
const CHILD = `const { dotToSvg } = await import(process.argv[1]); const dot = (await import('node:fs')).readFileSync(process.argv[2], 'utf8');
const start = performance.now(); await dotToSvg(dot); process.stdout.write(String(performance.now() - start));`;

interface Side {
  engine: Engine;
  result: RunResult;
  /** The configuration with the shared pages folders (outDir, cacheDir) in place of its own. */
  pages: ResolvedConfig;
}

async function side(collections: number, name: string, fewer: boolean, pagesDir: string): Promise<Side> {
  const dir = join(ROOT, `${collections}`, name);
  mkdirSync(dir, { recursive: true });
  const entries = Array.from({ length: collections }, (_, k) => [
    `c${k}`,
    { raw: RAW, axes: k === 0 && fewer ? { ...SMALL_AXES, bs: SMALL_AXES.bs.slice(0, 2) } : SMALL_AXES },
  ]);
  writeFileSync(join(dir, 'mdpipe.config.json'), JSON.stringify({ collections: Object.fromEntries(entries) }));
  const config = loadConfig({ cwd: dir });
  const engine = await openEngine({ definition: defineDataset(config), cacheDir: config.cacheDir, openStore: () => openDefaultStore(config.cacheDir), outDir: config.outDir, jobs: 1 });
  const result = await engine.run({});
  if (!result.summary.ok) throw new Error(`the ${name} build of ${collections} collections failed`);
  return { engine, result, pages: { ...config, outDir: join(pagesDir, 'out'), cacheDir: join(pagesDir, 'cache') } };
}

async function unloadGraphviz(): Promise<void> {
  const { Graphviz } = await importEsm<typeof import('@hpcc-js/wasm-graphviz')>('@hpcc-js/wasm-graphviz');
  Graphviz.unload();
}

function forgetLayouts(cacheDir: string): void {
  for (const f of readdirSync(cacheDir)) if (f.startsWith('graph-layout-')) rmSync(join(cacheDir, f));
}

async function measure(collections: number): Promise<Record<Variant, number[]>> {
  const pagesDir = join(ROOT, `${collections}`, 'pages');
  const sides = [await side(collections, 'a', false, pagesDir), await side(collections, 'b', true, pagesDir)];
  // The pages are written from the side they were not written from last (else graph.dot matches and
  // writeRunPages rightly does nothing); the other variants take turns.
  let written = 1;
  let turn = 0;
  const next = (variant: Variant): Side => (variant === 'kept' || variant === 'miss' ? sides[(written = 1 - written)] : sides[turn++ % 2]);
  const samples: Record<Variant, number[]> = { kept: [], miss: [], fill: [], render: [], process: [] };
  const once = async (variant: Variant): Promise<number> => {
    const s = next(variant);
    if (variant !== 'kept') await unloadGraphviz();
    if (variant === 'miss') forgetLayouts(s.pages.cacheDir);
    const statuses = new Map<string, NodeStatus>(s.result.outcomes.map((o) => [o.id, 'fresh']));
    if (variant === 'process') {
      const file = join(pagesDir, 'graph.dot');
      writeFileSync(file, fillDot(pictureTemplate(s.engine, {}, statuses)));
      return Number(execFileSync(process.execPath, ['--input-type=module', '-e', CHILD, PICTURE_MODULE, file], { encoding: 'utf8' }));
    }
    const start = performance.now();
    if (variant === 'render') await dotToSvg(fillDot(pictureTemplate(s.engine, {}, statuses)));
    else if (variant === 'fill') await drawTemplate(pictureTemplate(s.engine, {}, statuses), s.pages.cacheDir);
    else await writeRunPages(s.engine, s.pages, s.result);
    return performance.now() - start;
  };
  for (let warm = 0; warm < 2; warm++) await once('kept'); // lays out once, then warms the filling path
  for (let rep = 0; rep < REPS; rep++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const v = VARIANTS[(rep + k) % VARIANTS.length];
      samples[v].push(await once(v));
    }
  }
  for (const s of sides) await s.engine.close();
  return samples;
}

async function main(): Promise<void> {
  rmSync(ROOT, { recursive: true, force: true });
  await synthesize({ out: RAW, collection: 'basic', axes: SMALL_AXES });
  log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const lines = [
    `writeRunPages after a count change, medians of ${REPS} (min-max), one process, rotating order:`,
    '| collections | writeRunPages, layout kept | writeRunPages, no layout | picture from the kept layout | old render in-process | old render, fresh process | no layout / kept |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const collections of [2, 20]) {
    const s = await measure(collections);
    const f = (xs: number[]): string => `${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;
    lines.push(`| ${collections} | ${f(s.kept)} | ${f(s.miss)} | ${f(s.fill)} | ${f(s.render)} | ${f(s.process)} | ${(median(s.miss) / median(s.kept)).toFixed(1)}x |`);
    log(`${collections} collections done`);
  }
  log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(ROOT, { recursive: true, force: true });
}

void main();
