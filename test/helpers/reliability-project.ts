/**
 * Projects for the reliability tests: a synthetic raw tree of both collections (small axes by default:
 * 18 checkpoint folders each), its `mdpipe.config.json`, and the real command line (`bin/mdpipe.js`, which
 * runs the `dist/` build that `npm test` compiles first) run as a child process, as a user would run it.
 *
 * Each test gets its own copy of a tree synthesized once per axes and test file, so a planted bad file or
 * a killed run never leaks into another test.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GRAPH_DOT_FILE, GRAPH_FILE, INDEX_FILE } from '../../cli/index-page.js';
import { LAST_RUN_FILE } from '../../cli/last-run.js';
import { DEFAULT_LAYOUT, NOISY_LAYOUT } from '../../config/defaults.js';
import type { Axes } from '../../dataset/grid.js';
import type { RunSummary, TaskStatus } from '../../pipeline/events.js';
import { SMALL_AXES, synthesize } from '../../synth/index.js';
import { cliFor, ownCli, removeCliCopies, setupFailure, type User } from './run-as-user.js';

/** The project root (this file is test/helpers/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The `mdpipe` command. */
export const BIN = ownCli(ROOT).bin;

export const COLLECTIONS = ['basic', 'noisy'] as const;
export type Collection = (typeof COLLECTIONS)[number];
export const LAYOUTS: Record<Collection, string> = { basic: DEFAULT_LAYOUT, noisy: NOISY_LAYOUT };
export const EXPORT_FILES = ['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json'] as const;
/** The non-partition tasks of a collection, in pipeline order. */
export const COLLECTION_TASKS = ['grid', 'rfi', 'label', 'export'] as const;

/** 6 x 6 x 4 = 144 checkpoint folders per collection: a cold build of both takes about a second of work. */
export const MEDIUM_AXES: Axes = { bs: [16, 24, 32, 44, 64, 92], width: [2, 3, 4, 6, 8, 11], data: ['10', '09', '08', '07'] };
/** 13 x 13 x 4 = 676 per collection: a cold build of both lasts a few seconds, long enough to kill anywhere in it. */
export const LARGE_AXES: Axes = {
  bs: [16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024],
  width: [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128],
  data: ['10', '07', '04', '01'],
};

/** Every partition and collection task of a project over `axes` (both collections). */
export function taskCount(axes: Axes): number {
  return COLLECTIONS.length * (axes.bs.length * axes.width.length * axes.data.length + COLLECTION_TASKS.length);
}

/** `run` flags that make the CLI log every engine event as one JSON line on stderr (kill timing, phases). */
export const TRACE = ['--log-level', 'trace', '--log-format', 'json'];

export { NOBODY, whyUserCannotRun } from './run-as-user.js';
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export interface Coords {
  bs: number;
  width: number;
  data: string;
}

export interface Project {
  readonly dir: string;
  readonly configPath: string;
  readonly outDir: string;
  readonly cacheDir: string;
  readonly axes: Axes;
  /** Absolute checkpoint folder of a configuration. */
  folder(collection: Collection, coords: Coords): string;
  /** Absolute path of one metric file. */
  file(collection: Collection, coords: Coords, name: string): string;
  /** Rewrites the config file (the default one, changed by `edit`). */
  writeConfig(edit?: (config: ConfigJson) => unknown): void;
  /** `mdpipe <args> --config <this project's config>`, in the project folder. */
  run(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** Same, not awaited: for tests that signal or race the child. */
  spawn(args: readonly string[], options?: CliOptions): CliChild;
  /** Every file under the output folder, relative path to bytes (sorted). */
  outputs(): Map<string, Buffer>;
  /** Deletes the project. */
  cleanup(): void;
}

export interface ConfigJson {
  outDir: string;
  cacheDir: string;
  jobs: number;
  collections: Record<string, Record<string, unknown>>;
}

/** The task id of a checkpoint folder's parse task. */
export function parseId(collection: Collection, c: Coords): string {
  return `parse:${collection}/bs${c.bs}-w${c.width}-d${c.data}`;
}

/** The ids a run must execute after `collection`'s partition `c` changed: it and the collection's tasks. */
export function partitionAndDownstream(collection: Collection, c: Coords): string[] {
  return [parseId(collection, c), ...COLLECTION_TASKS.map((k) => `${k}:${collection}`)].sort();
}

/** The default configuration of a project. */
export function defaultConfig(axes: Axes): ConfigJson {
  const collections: ConfigJson['collections'] = {};
  for (const c of COLLECTIONS) collections[c] = { raw: `raw/${c}`, layout: LAYOUTS[c], axes: { bs: axes.bs, width: axes.width, data: axes.data } };
  return { outDir: 'out', cacheDir: '.mdpipe', jobs: 2, collections };
}

const templates = new Map<string, Promise<string>>();
const scratch: string[] = [];

/** A fresh temporary folder (removed by `removeScratch`, or by the caller). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mdpipe-rel-${prefix}-`));
  // mkdtemp makes 0700 folders: the nobody user of the permission tests must be able to enter them.
  chmodSync(dir, 0o755);
  scratch.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made in this test file (call in `afterAll`); templates are made again if needed. */
export function removeScratch(): void {
  templates.clear();
  removeCliCopies();
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Synthesizes both collections once per axes (and test file): the raw trees every project copies. */
function template(axes: Axes, seed: number): Promise<string> {
  const key = JSON.stringify([axes, seed]);
  let made = templates.get(key);
  if (!made) {
    made = (async () => {
      const dir = tempDir('template');
      for (const c of COLLECTIONS) await synthesize({ out: join(dir, 'raw', c), collection: c, axes, seed });
      return dir;
    })();
    templates.set(key, made);
  }
  return made;
}

export interface ProjectOptions {
  /** Axes of both collections (default SMALL_AXES: 3 x 3 x 2). */
  axes?: Axes;
  /** Synthesis seed (default 0). */
  seed?: number;
  /** Folder name prefix, for people reading /tmp. */
  name?: string;
  /** Where to put the project (default a new temporary folder). */
  dir?: string;
}

/** A project over a private copy of the synthetic raw trees, configured, not built. */
export async function createProject(options: ProjectOptions = {}): Promise<Project> {
  const axes = options.axes ?? SMALL_AXES;
  const source = await template(axes, options.seed ?? 0);
  const dir = options.dir ?? tempDir(options.name ?? 'project');
  mkdirSync(dir, { recursive: true });
  cpSync(join(source, 'raw'), join(dir, 'raw'), { recursive: true });
  return projectAt(dir, axes);
}

/** A `Project` over an existing folder holding `raw/` (a project copied or moved by a test). */
export function projectAt(dir: string, axes: Axes): Project {
  const configPath = join(dir, 'mdpipe.config.json');
  const layoutOf = (collection: Collection, c: Coords): string =>
    LAYOUTS[collection].replace('{bs}', String(c.bs)).replace('{width}', String(c.width)).replace('{data}', c.data);
  const project: Project = {
    dir,
    configPath,
    outDir: join(dir, 'out'),
    cacheDir: join(dir, '.mdpipe'),
    axes,
    folder: (collection, c) => join(dir, 'raw', collection, layoutOf(collection, c)),
    file: (collection, c, name) => join(project.folder(collection, c), name),
    writeConfig(edit) {
      const config = defaultConfig(axes);
      const edited = edit ? (edit(config) ?? config) : config;
      writeFileSync(configPath, JSON.stringify(edited, null, 2));
    },
    run: (args, options = {}) => runCli([...args, '--config', configPath], { cwd: dir, ...options }),
    spawn: (args, options = {}) => spawnCli([...args, '--config', configPath], { cwd: dir, ...options }),
    outputs: () => snapshot(project.outDir),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (!existsSync(configPath)) project.writeConfig();
  return project;
}

/**
 * What a clean build publishes for the trees `createProject(options)` makes, after `change` (if given)
 * edits them: built in a fresh project with a fresh cache, then deleted.
 */
export async function cleanBuildOutputs(options: ProjectOptions = {}, change?: (p: Project) => void): Promise<Map<string, Buffer>> {
  const p = await createProject({ ...options, name: 'reference' });
  try {
    change?.(p);
    const r = await p.run(['run', '--json']);
    if (r.code !== 0) throw new Error(`the clean reference build failed:\n${describeResult(r)}`);
    return p.outputs();
  } finally {
    p.cleanup();
  }
}

/** Every regular file under `dir`, relative path to bytes, sorted by path (empty if `dir` is absent). */
export function snapshot(dir: string): Map<string, Buffer> {
  const files: [string, Buffer][] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      // The CLI's pages about the last run (index.html, last-run.json, and graph.svg/.dot coloured by that
      // run's outcomes) differ between runs by design; every collection's built files are compared.
      else if (d === dir && RUN_RECORDS.includes(entry.name)) continue;
      else files.push([relative(dir, path), readFileSync(path)]);
    }
  };
  if (existsSync(dir)) walk(dir);
  return new Map(files.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const RUN_RECORDS = [INDEX_FILE, LAST_RUN_FILE, GRAPH_FILE, GRAPH_DOT_FILE];

/** Total bytes of a snapshot. */
export function snapshotBytes(files: Map<string, Buffer>): number {
  let n = 0;
  for (const bytes of files.values()) n += bytes.byteLength;
  return n;
}

/** The paths whose bytes differ between two snapshots (or that only one has). */
export function snapshotDiff(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => !(a.has(p) && b.has(p) && a.get(p)!.equals(b.get(p)!))).sort();
}

/** Gives a folder tree to a user (for the permission tests run as nobody). */
export function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

// ------------------------------------------------------------------------------------------ the CLI

export interface CliOptions {
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /**
   * Run as this user (root only): the CLI in this clone when the user can reach it, else a copy of it
   * (run-as-user.ts); a child that cannot load the CLI fails the test as a setup error, not by exit code.
   */
  user?: User;
  /** Kill the child (SIGKILL) after this long and fail the result (default 90 s). */
  timeoutMs?: number;
  /** Wrap the child in `/usr/bin/time` to measure its peak resident set size. */
  measureRss?: boolean;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
  /** `run --json`'s summary, when stdout is one. */
  summary?: RunSummary;
  /** Peak resident set size in KiB (with `measureRss`, when /usr/bin/time is present). */
  maxRssKb?: number;
  timedOut: boolean;
}

export interface CliChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Text the child wrote to stderr so far. */
  stderr(): string;
  /** Resolves once stderr contains `text` (rejects if the child exits first). */
  waitForStderr(test: string | RegExp): Promise<void>;
  readonly done: Promise<CliResult>;
}

export const TIME = '/usr/bin/time';
export const hasTime = existsSync(TIME);

/** Starts `mdpipe <args>`. */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliChild {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  delete env.MDPIPE_DEBUG;
  const spawnOptions: SpawnOptions = { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] };
  if (options.user) Object.assign(spawnOptions, options.user);
  const rssFile = options.measureRss && hasTime ? join(tmpdir(), `mdpipe-rel-rss-${process.pid}-${Math.random().toString(36).slice(2)}`) : undefined;
  const cli = options.user ? cliFor(options.user, ROOT) : ownCli(ROOT);
  const command = rssFile ? TIME : cli.node;
  const argv = rssFile ? ['-f', '%M', '-o', rssFile, cli.node, cli.bin, ...args] : [cli.bin, ...args];
  const child = spawn(command, argv, spawnOptions);
  let stdout = '';
  let stderr = '';
  const waiters: { test: string | RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  const matches = (test: string | RegExp): boolean => (typeof test === 'string' ? stderr.includes(test) : test.test(stderr));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    for (const w of [...waiters]) {
      if (matches(w.test)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 90_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', (e) => reject(options.user ? new Error(`test setup: cannot start ${cli.node} as uid ${options.user.uid}: ${e.message}`) : e));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A child run as another user that died in Node's loader never ran mdpipe: a setup error, not an exit code.
      const setup = options.user && code !== 0 ? setupFailure(options.user, cli, stderr) : undefined;
      for (const w of waiters.splice(0)) w.reject(new Error(setup ?? `mdpipe ${args.join(' ')} exited (${code ?? signal}) before stderr matched ${w.test}:\n${stderr}`));
      let summary: RunSummary | undefined;
      if (args.includes('--json') && stdout.trim().startsWith('{')) {
        try {
          summary = JSON.parse(stdout) as RunSummary;
        } catch {
          summary = undefined;
        }
      }
      let maxRssKb: number | undefined;
      if (rssFile && existsSync(rssFile)) {
        // `time -o` appends "Command terminated by signal" lines first when the child was killed.
        const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
        maxRssKb = Number(lines[lines.length - 1]);
        rmSync(rssFile, { force: true });
      }
      if (setup) reject(new Error(setup));
      else resolve({ code, signal, stdout, stderr, pid: child.pid ?? -1, summary, maxRssKb, timedOut });
    });
  });
  return {
    process: child,
    pid: child.pid ?? -1,
    stderr: () => stderr,
    waitForStderr: (test) =>
      new Promise<void>((resolve, reject) => {
        if (matches(test)) return resolve();
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`mdpipe already exited:\n${stderr}`));
        waiters.push({ test, resolve, reject });
      }),
    done,
  };
}

/** Runs `mdpipe <args>` to the end. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** Ids of a run summary's tasks with `status`, sorted. */
export function idsWith(summary: RunSummary | undefined, status: TaskStatus): string[] {
  if (!summary) throw new Error('no run --json summary on stdout');
  return summary.tasks.filter((t) => t.status === status).map((t) => t.id).sort();
}

/**
 * Lines of a stack trace in the CLI's stderr: `    at f (file.js:1:2)` as printed, or inside a JSON log
 * line (`\n    at `). A user error must never show one.
 */
export function stackTraceLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^\s+at\s/.test(line) || /\\n\s+at\s/.test(line));
}

/** A short description of a CLI result for assertion messages. */
export function describeResult(r: CliResult): string {
  const s = r.summary;
  const counts = s ? `\n--- summary --- ok ${s.ok}, executed ${s.executed}, cached ${s.cached}, failed ${s.failed} (${idsWith(s, 'failed').join(', ')}), skipped ${s.skipped}` : '';
  const stdout = s ? '(the run --json summary above)' : r.stdout.slice(0, 3000);
  const stderr = r.stderr.length > 6000 ? `${r.stderr.slice(0, 3000)}\n...\n${r.stderr.slice(-3000)}` : r.stderr;
  // Warnings and errors of a JSON log, wherever they are in a long one.
  const alerts = r.stderr.split('\n').filter((line) => /^\{"level":(40|50|60)|^(warn|error|fatal): /.test(line)).slice(0, 20);
  return (
    `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}${counts}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}` +
    (alerts.length > 0 && r.stderr.length > 6000 ? `\n--- warnings and errors logged ---\n${alerts.join('\n')}` : '')
  );
}

/**
 * At most `n` callers at a time run their body: two CLI children keep both cores of a small machine busy.
 * (Fifteen lines rather than a dependency such as p-limit, which the project does not have.)
 */
export function limiter(n: number): <T>(body: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (body) => {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await body();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

/** A value computed on first use and shared (for references that concurrent tests await themselves). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

/** True if `mount -t tmpfs` works here (root outside a restricted container). */
export function canMountTmpfs(): boolean {
  if (!isRoot) return false;
  const dir = mkdtempSync(join(tmpdir(), 'mdpipe-rel-mountprobe-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
    if (mounted) spawnSync('umount', [dir], { stdio: 'ignore' });
    return mounted;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
