/**
 * Chooses the file watcher of `mdpipe watch` by measurement: chokidar against @parcel/watcher on a tree of
 * ~200k files in the real layout (20 collections x 1,690 checkpoint folders x 6 files, empty files: only
 * the tree's shape matters to a watcher). For each candidate, a fresh child process watches every
 * collection root as `mdpipe watch` does, and reports:
 *   - start-up: from the call to watching (chokidar's `ready`, @parcel/watcher's `subscribe` resolving);
 *   - memory: RSS once watching, minus the RSS of the same child before it loaded the watcher;
 *   - inotify watches: the `inotify wd:` lines under /proc/self/fdinfo (one per watched directory);
 *   - one event: the latency from writing a new file to its event reaching the callback (sanity check).
 * Runs alternate between candidates; medians of `--runs` (default 3).
 *
 *   npm run build && node dist/bench/watchers.js [--tree DIR] [--collections 20] [--runs 3] [--only chokidar]
 *
 * Only the watcher mdpipe uses is a dependency; to compare, install the other one without saving it:
 * `npm install --no-save chokidar@4.0.3` (the bench says when a candidate is missing).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { METRIC_FILES } from '../dataset/metrics.js';

const CANDIDATES = ['@parcel/watcher', 'chokidar'] as const;
type Candidate = (typeof CANDIDATES)[number];

/** The published axes: 13 bs x 13 widths x 10 data fractions = 1,690 folders per collection. */
const BS = [16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024];
const WIDTH = [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128];
const DATA = ['10', '09', '08', '07', '06', '05', '04', '03', '02', '01'];

/** What the bench uses of chokidar's FSWatcher. */
interface ChokidarWatcher {
  once(event: 'ready', listener: () => void): unknown;
  on(event: 'all', listener: (event: string, path: string) => void): unknown;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  close(): Promise<void>;
}

interface ChildReport {
  candidate: Candidate;
  version: string;
  startMs: number;
  rssBeforeMb: number;
  rssMb: number;
  watches: number;
  eventMs: number;
  /** A file written inside folders just made with `mkdir -p` (as the training code makes a checkpoint folder) was reported. */
  nestedSeen: boolean;
  /** Errors the watcher reported while starting, by code (`ENOSPC x 84,000`). */
  errors: string;
}

/** Writes `collections` collections of empty metric files, once (a marker file says the tree is complete). */
function writeTree(root: string, collections: number): { roots: string[]; files: number; dirs: number } {
  const roots = Array.from({ length: collections }, (_, c) => join(root, `c${String(c).padStart(2, '0')}`));
  const marker = join(root, `.complete-${collections}`);
  let files = 0;
  let dirs = 0;
  const fresh = !existsSync(marker);
  for (const base of roots) {
    for (const data of DATA) {
      for (const bs of BS) {
        for (const width of WIDTH) {
          const folder = join(base, `different_knobs_subset_${data}`, `bs_${bs}`, 'normal', `ResNet18_w${width}`, 'metrics');
          if (fresh) {
            mkdirSync(folder, { recursive: true });
            for (const name of METRIC_FILES) writeFileSync(join(folder, name), '');
          }
          files += METRIC_FILES.length;
        }
      }
    }
    // data folders, bs folders, normal, width folders, metrics folders, plus the root
    dirs += 1 + DATA.length * (1 + BS.length * (2 + WIDTH.length * 2));
  }
  if (fresh) writeFileSync(marker, '');
  return { roots, files, dirs };
}

function rssMb(): number {
  return process.memoryUsage.rss() / 2 ** 20;
}

/** inotify watches held by this process: one `inotify wd:` line per watch in each inotify fd's fdinfo. */
function inotifyWatches(): number {
  let watches = 0;
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) if (line.startsWith('inotify wd:')) watches++;
  }
  return watches;
}

const require = createRequire(import.meta.url);
/** The installed version (read beside the entry point: chokidar's `exports` do not list package.json). */
const versionOf = (name: string): string => (JSON.parse(readFileSync(join(dirname(require.resolve(name)), 'package.json'), 'utf8')) as { version: string }).version;

/** The child: watch `roots` with `candidate`, measure, print one JSON line, exit. */
async function child(candidate: Candidate, roots: string[]): Promise<void> {
  global.gc?.();
  const rssBeforeMb = rssMb();
  let onEvent: (path: string) => void = () => {};
  const errors = new Map<string, number>();
  const started = performance.now();
  let close: () => Promise<void>;
  if (candidate === '@parcel/watcher') {
    const watcher = await import('@parcel/watcher');
    const subs = await Promise.all(
      roots.map((root) =>
        watcher.subscribe(root, (error, events) => {
          if (!error) for (const e of events) onEvent(e.path);
        }),
      ),
    );
    // Removing a watch whose folder is gone fails (EINVAL): nothing to clean up then.
    close = async () => void (await Promise.all(subs.map((s) => s.unsubscribe().catch(() => {}))));
  } else {
    // Not a dependency (see the header): imported by a name TypeScript does not resolve.
    const name = 'chokidar';
    const { watch } = (await import(name)) as { watch: (paths: string[], options: object) => ChokidarWatcher };
    const w = watch(roots, { ignoreInitial: true, persistent: true });
    // chokidar watches every file too: past fs.inotify.max_user_watches it reports ENOSPC per file and goes on.
    w.on('error', (error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      errors.set(code, (errors.get(code) ?? 0) + 1);
    });
    await new Promise<void>((resolve) => w.once('ready', () => resolve()));
    w.on('all', (_event: string, path: string) => onEvent(path));
    close = () => w.close();
  }
  const startMs = performance.now() - started;
  const errorText = (): string => [...errors].map(([code, n]) => `${code} x ${n.toLocaleString('en')}`).join(', ');
  global.gc?.();
  const report: ChildReport = { candidate, version: versionOf(candidate), startMs, rssBeforeMb, rssMb: rssMb(), watches: inotifyWatches(), eventMs: NaN, nestedSeen: false, errors: '' };
  // One event: a new file in a checkpoint folder.
  const probe = join(roots[0], 'different_knobs_subset_05', 'bs_64', 'normal', 'ResNet18_w8', 'metrics', `probe-${process.pid}`);
  const seen = new Promise<void>((resolve) => {
    onEvent = (path) => path === probe && resolve();
  });
  const wrote = performance.now();
  writeFileSync(probe, 'x');
  await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  report.eventMs = performance.now() - wrote;
  rmSync(probe, { force: true });
  // A new checkpoint folder as the training code makes it: `os.makedirs` of the whole chain, then its files.
  const nestedRoot = join(roots[0], `different_knobs_subset_${process.pid % 90 + 10}`);
  const nested = join(nestedRoot, 'bs_16', 'normal', 'ResNet18_w2', 'metrics', 'loss_acc.pkl');
  const nestedSeenP = new Promise<boolean>((resolve) => {
    onEvent = (path) => path === nested && resolve(true);
    setTimeout(() => resolve(false), 3_000);
  });
  mkdirSync(join(nestedRoot, 'bs_16', 'normal', 'ResNet18_w2', 'metrics'), { recursive: true });
  writeFileSync(nested, 'x');
  report.nestedSeen = await nestedSeenP;
  report.errors = errorText();
  rmSync(nestedRoot, { recursive: true, force: true });
  await close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function runChild(candidate: Candidate, roots: string[]): Promise<ChildReport> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', self, '--child', candidate, ...roots], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildReport) : reject(new Error(`${candidate} child exited ${code}`))));
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'string' },
      tree: { type: 'string', default: join(tmpdir(), 'mdpipe-bench-watchers') },
      collections: { type: 'string', default: '20' },
      runs: { type: 'string', default: '3' },
      /** Comma-separated: which candidates to run (chokidar needs minutes and gigabytes at 200k files). */
      only: { type: 'string', default: CANDIDATES.join(',') },
    },
  });
  if (values.child) return child(values.child as Candidate, positionals);

  const collections = Number(values.collections);
  const t0 = performance.now();
  const tree = writeTree(values.tree!, collections);
  console.log(`tree: ${values.tree} (${tree.files.toLocaleString('en')} files, ${tree.dirs.toLocaleString('en')} folders; ${Math.round(performance.now() - t0)} ms to write or check)`);
  console.log(`fs.inotify.max_user_watches = ${readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()}`);
  const available = CANDIDATES.filter((name) => values.only!.split(',').includes(name)).filter((name) => {
    try {
      versionOf(name);
      return true;
    } catch {
      console.log(`${name}: not installed, skipped (npm install --no-save ${name === 'chokidar' ? 'chokidar@4.0.3' : name} to compare)`);
      return false;
    }
  });
  const reports = new Map<Candidate, ChildReport[]>(available.map((c) => [c, []]));
  for (let run = 0; run < Number(values.runs); run++) {
    for (const candidate of available) reports.get(candidate)!.push(await runChild(candidate, tree.roots));
  }
  console.log('\n| watcher | start-up (ms) | RSS once watching (MB) | RSS added (MB) | inotify watches | event latency (ms) | file in a new `mkdir -p` folder seen | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const [candidate, rs] of reports) {
    const m = (f: (r: ChildReport) => number): string => median(rs.map(f)).toFixed(0);
    console.log(
      `| ${candidate} ${rs[0].version} | ${m((r) => r.startMs)} | ${m((r) => r.rssMb)} | ${m((r) => r.rssMb - r.rssBeforeMb)} | ${m((r) => r.watches)} | ${m((r) => r.eventMs)} | ${rs.filter((r) => r.nestedSeen).length} of ${rs.length} runs | ${rs[0].errors || 'none'} |`,
    );
  }
  console.log(`\nmedians of ${values.runs} runs per watcher, alternating; each run a fresh process watching ${collections} collection roots`);
}

await main();
