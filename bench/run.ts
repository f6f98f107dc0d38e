/**
 * `npm run bench`: the three numbers users feel (first build, rebuild when nothing changed, rebuild after
 * a few new runs land), measured on full-size synthetic trees as `mdpipe run` processes, start to exit,
 * against floors measured in the same run. Nothing is asserted: the figures go to a table, printed and
 * written to `bench/results/<date>-<HHMM>.md` (UTC start time; one file per run) with the machine they
 * were taken on.
 *
 *   npm run bench                 both collections, 2 x 1,690 folders, 5 repetitions, 10x scale, Python
 *   npm run bench -- --quick      a smoke check: 2 x 169 folders, 2 repetitions
 *   options: --reps N  --no-scale  --no-python  --no-write (print only)
 *
 * Scenarios, each repeated, each repetition starting from the same built state (the tree is restored
 * between them, with an unmeasured run where the cache must catch up):
 *   cold      empty cache and outputs, build everything
 *   no-op     nothing changed
 *   new       one checkpoint folder added since the last build (content new to the cache each time)
 *   touch     one file's mtime changed, content not
 *   changed   one loss_acc_test.pkl rewritten with other values (new content each time)
 * Floors, as processes, interleaved with the scenarios: read every raw file; stat every raw file; walk the
 * trees (readdir) and stat every file. The Python script mdpipe replaces, when numpy is there.
 * Scale: 10x the tree (20 collections, 33,800 folders, ~203k files, every collection synthesized with its
 * own seed so no two share a file's content): one cold build, no-ops and one new checkpoint, against the
 * 1x figures of the same run. The trees are kept in bench/data/ (gitignored) between runs: writing the
 * 10x tree takes minutes, checking it takes a probe folder per collection.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_AXES } from '../synth/index.js';
import { ensureTrees, folderOf, listFiles, QUICK_AXES, synthesizeInto, type Tree, type TreeSpec } from './data.js';
import { measure, RSS_METHOD, type Measurement } from './measure.js';
import { formatTable, median, type Row } from './table.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const PROJECT = resolve(HERE, '../..');
const BIN = join(PROJECT, 'bin/mdpipe.js');
const FLOOR = join(HERE, 'floor.js');
const PYTHON_SCRIPT = join(PROJECT, 'bench/python-baseline.py');

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(`--${name}`);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const QUICK = flag('quick');
const REPS = option('reps', QUICK ? 2 : 5);
const SCALE = !flag('no-scale');
const PYTHON = !flag('no-python');
const WRITE = !flag('no-write');

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

// ------------------------------------------------------------------ data and configurations

const axes = QUICK ? QUICK_AXES : FULL_AXES;
/** The 1x tree is the first two (both collections); the 10x tree all twenty (other seeds, other values). */
const SCALE_FACTOR = 10;
const SPECS: TreeSpec[] = Array.from({ length: SCALE_FACTOR }, (_, seed) => seed).flatMap((seed) =>
  (['basic', 'noisy'] as const).map((collection) => ({ name: seed === 0 ? collection : `${collection}-${seed}`, collection, seed, axes })),
);

const dataDir = join(PROJECT, 'bench/data', QUICK ? 'quick' : 'full');

/** A working folder with its config, cache and outputs, over some of the trees. */
interface Workspace {
  name: string;
  dir: string;
  config: string;
  trees: Tree[];
  files: string[];
  fileList: string;
}

function workspace(name: string, trees: Tree[]): Workspace {
  const dir = join(dataDir, 'work', name);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'mdpipe.config.json');
  const collections: Record<string, unknown> = {};
  for (const tree of trees) {
    collections[tree.name] = {
      raw: relative(dir, tree.root),
      layout: tree.layout,
      axes: { bs: tree.axes.bs, width: tree.axes.width, data: tree.axes.data },
    };
  }
  writeFileSync(config, `${JSON.stringify({ outDir: 'out', cacheDir: 'cache', collections }, null, 2)}\n`);
  const files = listFiles(trees);
  const fileList = join(dir, 'files.txt');
  writeFileSync(fileList, `${files.join('\n')}\n`);
  return { name, dir, config, trees, files, fileList };
}

function emptyCacheAndOutputs(ws: Workspace): void {
  rmSync(join(ws.dir, 'cache'), { recursive: true, force: true });
  rmSync(join(ws.dir, 'out'), { recursive: true, force: true });
}

// ------------------------------------------------------------------ measured processes

interface RunFigures extends Measurement {
  executed: number;
  cached: number;
}

/** `mdpipe run --json` as a user runs it; fails loudly if the run did not succeed. */
function mdpipeRun(ws: Workspace): RunFigures {
  const m = measure(process.execPath, [BIN, 'run', '--json', '--quiet', '--no-progress', '--config', ws.config], { cwd: ws.dir });
  let summary: { ok?: boolean; executed?: number; cached?: number } = {};
  try {
    summary = JSON.parse(m.stdout);
  } catch {
    // reported below
  }
  if (m.status !== 0 || summary.ok !== true) {
    throw new Error(`mdpipe run failed (exit ${m.status}) in ${ws.dir}:\n${m.stderr.slice(-2000)}\n${m.stdout.slice(0, 500)}`);
  }
  return { ...m, executed: summary.executed ?? NaN, cached: summary.cached ?? NaN };
}

function floor(ws: Workspace, mode: 'read' | 'stat' | 'walk'): Measurement {
  const rest = mode === 'walk' ? ws.trees.map((t) => t.root) : [ws.fileList];
  const m = measure(process.execPath, [FLOOR, mode, ...rest]);
  if (m.status !== 0) throw new Error(`floor ${mode} failed: ${m.stderr}`);
  const { files } = JSON.parse(m.stdout) as { files: number };
  if (files !== ws.files.length) throw new Error(`floor ${mode} saw ${files} files, expected ${ws.files.length}`);
  return m;
}

const hasPython = ((): boolean => {
  if (!PYTHON) return false;
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  return probe.status === 0;
})();

function python(ws: Workspace): Measurement {
  const m = measure('/usr/bin/python3', [PYTHON_SCRIPT, ws.config, join(ws.dir, 'python-out')]);
  if (m.status !== 0) throw new Error(`python baseline failed: ${m.stderr.slice(-2000)}`);
  return m;
}

// ------------------------------------------------------------------ scenario set-ups

/** Where a folder is moved while it is "not landed yet". */
const stashDir = join(dataDir, 'stash');

interface Fixtures {
  /** The folder that lands in `new`. */
  newFolder: string;
  /** Its original files (restored at the end). */
  newOriginal: string;
  /** The file rewritten in `changed`, and a copy of its original bytes. */
  changedFile: string;
  changedOriginal: Buffer;
  /** The file touched in `touch`. */
  touchedFile: string;
}

function fixtures(ws: Workspace): Fixtures {
  const [basic] = ws.trees;
  const last = { bs: basic.axes.bs.at(-1)!, width: basic.axes.width.at(-1)!, data: basic.axes.data.at(-1)! };
  const newFolder = folderOf(basic, last);
  const newOriginal = join(stashDir, 'new-original');
  if (!existsSync(newOriginal)) {
    mkdirSync(stashDir, { recursive: true });
    copyTree(newFolder, newOriginal);
  }
  const mid = { bs: basic.axes.bs[4], width: basic.axes.width[4], data: basic.axes.data[0] };
  const changedFile = join(folderOf(basic, mid), 'loss_acc_test.pkl');
  const touchedFile = join(folderOf(ws.trees[1], mid), 'hessian.pkl');
  return { newFolder, newOriginal, changedFile, changedOriginal: readFileSync(changedFile), touchedFile };
}

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) copyFileSync(join(from, name), join(to, name));
}

/** Writes the files of one folder synthesized with another seed (content the cache has never seen). */
async function writeNovelFolder(tree: Tree, folder: string, seed: number): Promise<void> {
  const coords = parseCoords(tree, folder);
  const root = await synthesizeInto(tree, { bs: [coords.bs], width: [coords.width], data: [coords.data] }, seed);
  try {
    const from = folderOf({ ...tree, root }, coords);
    rmSync(folder, { recursive: true, force: true });
    copyTree(from, folder);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function parseCoords(tree: Tree, folder: string): { bs: number; width: number; data: string } {
  for (const data of tree.axes.data) for (const bs of tree.axes.bs) for (const width of tree.axes.width) {
    if (folderOf(tree, { bs, width, data }) === folder) return { bs, width, data };
  }
  throw new Error(`${folder} is not a folder of ${tree.name}`);
}

// ------------------------------------------------------------------ the run

type Series = Record<string, RunFigures[] | Measurement[]>;

async function main(): Promise<void> {
  const loadStart = loadavg();
  const started = new Date();
  log(`${QUICK ? 'quick mode: ' : ''}${REPS} repetitions; trees in ${dataDir}`);
  const trees = await ensureTrees(dataDir, SCALE ? SPECS : SPECS.slice(0, 2), log);
  const ws1 = workspace('x1', trees.slice(0, 2));
  const fx = fixtures(ws1);
  // Start from the original tree (a previous run may have been interrupted mid-scenario).
  rmSync(fx.newFolder, { recursive: true, force: true });
  copyTree(fx.newOriginal, fx.newFolder);
  writeFileSync(fx.changedFile, fx.changedOriginal);

  log(`warming the page cache (${ws1.files.length} files)`);
  floor(ws1, 'read');

  const series: Series = { cold: [], noop: [], new: [], touch: [], changed: [], read: [], stat: [], walk: [], python: [] };
  const push = (name: string, m: Measurement): void => void (series[name] as Measurement[]).push(m);
  for (let rep = 0; rep < REPS; rep++) {
    log(`repetition ${rep + 1} of ${REPS}`);
    push('read', floor(ws1, 'read'));
    emptyCacheAndOutputs(ws1);
    push('cold', mdpipeRun(ws1));
    push('stat', floor(ws1, 'stat'));
    push('noop', mdpipeRun(ws1));
    push('walk', floor(ws1, 'walk'));

    // new: the folder is absent at the last build, then lands with content the cache has not seen.
    rmSync(fx.newFolder, { recursive: true, force: true });
    mdpipeRun(ws1);
    await writeNovelFolder(ws1.trees[0], fx.newFolder, 1000 + rep);
    push('new', mdpipeRun(ws1));
    push('stat', floor(ws1, 'stat'));

    // touch: same bytes, new mtime.
    const now = Date.now() / 1000;
    utimesSync(fx.touchedFile, now, now);
    push('touch', mdpipeRun(ws1));

    // changed: other values in one loss_acc_test.pkl, then the original back (and the cache caught up).
    writeFileSync(fx.changedFile, await novelFile(ws1.trees[0], fx.changedFile, 2000 + rep));
    push('changed', mdpipeRun(ws1));
    writeFileSync(fx.changedFile, fx.changedOriginal);
    mdpipeRun(ws1);

    if (hasPython) push('python', python(ws1));
  }
  // Leave the tree as it was synthesized.
  rmSync(fx.newFolder, { recursive: true, force: true });
  copyTree(fx.newOriginal, fx.newFolder);

  let scale: Scale | undefined;
  if (SCALE) {
    const ws10 = workspace(`x${SCALE_FACTOR}`, trees);
    // As many as at full size: a 10x no-op varies by ±0.5 s, and the new checkpoint's cost is the difference of two such medians.
    const scaleReps = REPS;
    log(`scale: ${SCALE_FACTOR}x tree (${ws10.files.length} files): one cold build, ${scaleReps} no-ops and new checkpoints`);
    floor(ws10, 'read');
    emptyCacheAndOutputs(ws10);
    const cold = mdpipeRun(ws10);
    mdpipeRun(ws1);
    scale = { x1: [], x10: [], stat10: [], new10: [], files1: ws1.files.length, files10: ws10.files.length, cold };
    for (let rep = 0; rep < scaleReps; rep++) {
      scale.x1.push(mdpipeRun(ws1));
      scale.x10.push(mdpipeRun(ws10));
      scale.stat10.push(floor(ws10, 'stat'));
      rmSync(fx.newFolder, { recursive: true, force: true });
      mdpipeRun(ws10);
      await writeNovelFolder(ws10.trees[0], fx.newFolder, 3000 + rep);
      scale.new10.push(mdpipeRun(ws10));
    }
    rmSync(fx.newFolder, { recursive: true, force: true });
    copyTree(fx.newOriginal, fx.newFolder);
  }

  const loadEnd = loadavg();
  const text = report({ series, scale, ws1, started, loadStart, loadEnd });
  process.stdout.write(text);
  if (WRITE) {
    const file = resultsFile(started);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { flag: 'wx' });
    log(`wrote ${relative(process.cwd(), file)}`);
  }
}

/**
 * One results file per run, named by its start time in UTC (`2026-11-27-0810.md`), so a second run on
 * the same day does not overwrite the first; `-2`, `-3` if runs start within the same minute.
 */
function resultsFile(started: Date): string {
  const stamp = `${started.toISOString().slice(0, 10)}-${started.toISOString().slice(11, 16).replace(':', '')}${QUICK ? '-quick' : ''}`;
  for (let n = 1; ; n++) {
    const file = join(PROJECT, 'bench/results', `${stamp}${n === 1 ? '' : `-${n}`}.md`);
    if (!existsSync(file)) return file;
  }
}

/** The bytes `file` (a metric file of `tree`) would hold if synthesized with another seed. */
async function novelFile(tree: Tree, file: string, seed: number): Promise<Buffer> {
  const coords = parseCoords(tree, dirname(file));
  const root = await synthesizeInto(tree, { bs: [coords.bs], width: [coords.width], data: [coords.data] }, seed);
  try {
    return readFileSync(join(folderOf({ ...tree, root }, coords), basename(file)));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the report

interface Scale {
  x1: Measurement[];
  x10: Measurement[];
  stat10: Measurement[];
  new10: RunFigures[];
  files1: number;
  files10: number;
  cold: RunFigures;
}

interface ReportInput {
  series: Series;
  scale?: Scale;
  ws1: Workspace;
  started: Date;
  loadStart: number[];
  loadEnd: number[];
}

function report({ series, scale, ws1, started, loadStart, loadEnd }: ReportInput): string {
  const ms = (list: Measurement[]) => list.map((m) => m.ms);
  const med = (name: string) => median(ms(series[name] as Measurement[]));
  const readFloor = med('read');
  const statFloor = med('stat');
  const noop = med('noop');
  const rows: Row[] = [];
  const add = (label: string, name: string, vs?: { floor: number; label: string }): void => {
    const list = series[name] as (Measurement & Partial<RunFigures>)[];
    if (list.length === 0) return;
    const times = ms(list);
    const executed = list[0].executed;
    rows.push({
      label,
      median: median(times),
      min: Math.min(...times),
      max: Math.max(...times),
      rssMb: Math.max(...list.map((m) => m.rssMb)),
      cpuMs: median(list.map((m) => m.cpuMs)),
      executed: executed === undefined ? '' : String(executed),
      ratio: vs ? `${(median(times) / vs.floor).toFixed(2)} x ${vs.label}` : '',
    });
  };
  add('1. cold: empty cache and outputs', 'cold', { floor: readFloor, label: 'read floor' });
  add('2. no-op: nothing changed', 'noop', { floor: statFloor, label: 'stat floor' });
  add('3. one new checkpoint folder', 'new', { floor: noop, label: 'no-op' });
  add('4. touch: one mtime changed', 'touch', { floor: noop, label: 'no-op' });
  add('5. one loss_acc_test.pkl changed', 'changed', { floor: noop, label: 'no-op' });
  add('floor: read every raw file', 'read');
  add('floor: stat every raw file', 'stat');
  add('floor: walk (readdir) + stat', 'walk');
  add('python baseline (pickle + numpy loop)', 'python');

  const folders = ws1.trees.reduce((n, t) => n + t.folders, 0);
  const lines: string[] = [];
  lines.push(`# mdpipe benchmark, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${QUICK ? ' (quick mode)' : ''}`, '');
  lines.push(
    `Tree: ${ws1.trees.map((t) => t.name).join(' + ')}, ${folders.toLocaleString('en-US')} checkpoint folders, ` +
      `${ws1.files.length.toLocaleString('en-US')} files (synthesized, bench/data/). Each figure: \`mdpipe run --json\` ` +
      `as a process, spawn to exit, ${REPS} repetitions (median, min, max), warm page cache. Peak RSS: the largest ` +
      `of the repetitions (${RSS_METHOD}). Floors: bare \`node\` processes (start-up included).`,
    '',
  );
  lines.push(formatTable(rows), '');

  const cold = med('cold');
  const targets: [string, boolean, string][] = [
    ['cold <= 2.0 x read floor', cold <= 2 * readFloor, `${(cold / readFloor).toFixed(2)} x`],
    ['no-op <= 2.0 x stat floor', noop <= 2 * statFloor, `${(noop / statFloor).toFixed(2)} x`],
    ['new checkpoint <= no-op + 150 ms', med('new') <= noop + 150, `no-op + ${(med('new') - noop).toFixed(0)} ms`],
    ['one file changed <= no-op + 150 ms', med('changed') <= noop + 150, `no-op + ${(med('changed') - noop).toFixed(0)} ms`],
    ['touch = no-op (within 10 %)', Math.abs(med('touch') - noop) <= 0.1 * noop, `${(med('touch') - noop).toFixed(0)} ms from no-op`],
    [
      'peak RSS <= 300 MB in every scenario',
      ['cold', 'noop', 'new', 'touch', 'changed'].every((s) => (series[s] as Measurement[]).every((m) => m.rssMb <= 300)),
      `largest ${Math.max(...['cold', 'noop', 'new', 'touch', 'changed'].flatMap((s) => (series[s] as Measurement[]).map((m) => m.rssMb))).toFixed(0)} MB`,
    ],
  ];
  if ((series.python as Measurement[]).length > 0) {
    const py = med('python');
    targets.push(['cold at least 1.5 x faster than Python', cold * 1.5 <= py, `${(py / cold).toFixed(2)} x faster`]);
  } else targets.push(['cold at least 1.5 x faster than Python (not measured: numpy absent)', false, 'no figure']);

  if (scale) {
    const f = SCALE_FACTOR;
    const n1 = median(ms(scale.x1));
    const n10 = median(ms(scale.x10));
    const new10 = median(ms(scale.new10));
    const rss10 = Math.max(scale.cold.rssMb, ...scale.x10.map((m) => m.rssMb), ...scale.new10.map((m) => m.rssMb));
    const newCost1 = med('new') - noop;
    const newCost10 = new10 - n10;
    lines.push(`Scale (${f}x the tree, the same run; 1x no-op re-measured alongside):`, '');
    lines.push('| tree | files | cold | no-op median | µs per file (no-op) | stat floor | new checkpoint | new minus no-op | peak RSS |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(
      `| 1x | ${scale.files1.toLocaleString('en-US')} | ${cold.toFixed(0)} ms | ${n1.toFixed(0)} ms | ${((n1 / scale.files1) * 1000).toFixed(1)} | ${statFloor.toFixed(0)} ms | ${med('new').toFixed(0)} ms | ${newCost1.toFixed(0)} ms | ${Math.max(...['cold', 'noop', 'new'].flatMap((s) => (series[s] as Measurement[]).map((m) => m.rssMb))).toFixed(0)} MB |`,
    );
    lines.push(
      `| ${f}x | ${scale.files10.toLocaleString('en-US')} | ${scale.cold.ms.toFixed(0)} ms (once) | ${n10.toFixed(0)} ms | ${((n10 / scale.files10) * 1000).toFixed(1)} | ${median(ms(scale.stat10)).toFixed(0)} ms | ${new10.toFixed(0)} ms | ${newCost10.toFixed(0)} ms | ${rss10.toFixed(0)} MB |`,
    );
    lines.push('');
    targets.push([`${f}x cold <= 11 x full-size cold`, scale.cold.ms <= 11 * cold, `${(scale.cold.ms / cold).toFixed(2)} x`]);
    targets.push([`${f}x no-op <= 11 x full-size no-op`, n10 <= 11 * n1, `${(n10 / n1).toFixed(2)} x`]);
    targets.push([`${f}x one new checkpoint above its no-op <= 2 x the full-size figure`, newCost10 <= 2 * Math.max(newCost1, 1), `${newCost10.toFixed(0)} ms vs ${newCost1.toFixed(0)} ms`]);
    targets.push([`${f}x peak RSS <= 1 GB`, rss10 <= 1024, `${rss10.toFixed(0)} MB`]);
  }
  lines.push('Targets:', '');
  for (const [what, ok, figure] of targets) lines.push(`- ${ok ? 'holds' : 'MISSED'}: ${what} (${figure})`);
  lines.push('');
  const mem = (totalmem() / 2 ** 30).toFixed(1);
  lines.push(
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${mem} GiB memory, Node ${process.version}, ` +
      `${process.platform}/${process.arch}. Load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, ` +
      `at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
  );
  return `${lines.join('\n')}`;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
