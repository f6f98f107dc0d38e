/**
 * Runs `bin/mdpipe.js` as a user would: a child process in a temporary folder, stdout and stderr captured,
 * no terminal. The CLI runs from dist/ (`npm test` builds it first; when running jest by hand, run
 * `npm run build` before).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/mdpipe.js');

if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
  throw new Error('test/cli: dist/cli/main.js is missing: run `npm run build` first (npm test does it for you)');
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
}

/** The environment of a child: ours without MDPIPE_* settings (they would change what is tested). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('MDPIPE_')) env[key] = value;
  return { ...env, ...extra };
}

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written so far. */
  readonly output: { stdout: string; stderr: string };
  /** Resolves once stderr contains a match for `pattern`. */
  waitForStderr(pattern: RegExp): Promise<void>;
  readonly done: Promise<Ran>;
}

/** Starts `mdpipe ...args`. */
export function spawnMdpipe(args: readonly string[], options: RunOptions): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  const waiters: { pattern: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output.stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output.stderr)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const done = new Promise<Ran>((resolve) => {
    child.on('close', (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`mdpipe exited (${code ?? signal}) before stderr matched ${waiter.pattern}:\n${output.stderr}`));
      resolve({ code, signal, ...output });
    });
  });
  return {
    child,
    output,
    done,
    waitForStderr: (pattern) =>
      pattern.test(output.stderr) ? Promise.resolve() : new Promise<void>((resolve, reject) => waiters.push({ pattern, resolve, reject })),
  };
}

/** Runs `mdpipe ...args` to the end. */
export function mdpipe(args: readonly string[], options: RunOptions): Promise<Ran> {
  return spawnMdpipe(args, options).done;
}

/** Runs a shell command line with `mdpipe` meaning this project's bin (for the help examples). */
export function shell(line: string, options: RunOptions): Promise<Ran> {
  const command = line.replace(/^mdpipe\b/, `"${process.execPath}" "${BIN}"`);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const made: string[] = [];

/** A new temporary folder, removed after the test file's tests (trees of a full collection are 19 MB). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mdpipe-cli-${prefix}-`));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Debian's chromium when installed (tests that need a real browser skip, saying so, without it). */
export const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync(c, ['--version'], { encoding: 'utf8' }).status === 0);

/** Runs headless chromium with `args` (a fresh profile, no network services); its stdout. */
export function browser(args: string[]): string {
  const profile = tempDir('chromium-profile');
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`];
  const ran = spawnSync(chromium!, [...flags, ...args], { encoding: 'utf8', timeout: 90_000 });
  if (ran.status !== 0) throw new Error(`chromium exited ${ran.status}: ${ran.stderr}`);
  return ran.stdout;
}

/** Fails with the child's output when it did not exit with `code` (so a failure says why). */
export function expectExit(ran: Ran, code: number): void {
  if (ran.code !== code) {
    throw new Error(`expected exit code ${code}, got ${ran.code ?? ran.signal}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`);
  }
}

/**
 * A folder with small basic and noisy trees (3 x 3 x 2 each) written by `mdpipe synth`, and the
 * `mdpipe.config.json` synth wrote for them.
 */
export async function smallProject(prefix: string): Promise<string> {
  const dir = tempDir(prefix);
  expectExit(await mdpipe(['synth', '--out', 'raw/basic', '--axes', 'small', '--config-out', 'mdpipe.config.json'], { cwd: dir }), 0);
  expectExit(await mdpipe(['synth', '--out', 'raw/noisy', '--collection', 'noisy', '--axes', 'small', '--config-out', 'mdpipe.config.json'], { cwd: dir }), 0);
  return dir;
}

/** Tasks of a small project: 18 parse tasks and grid, rfi, label, export per collection. */
export const SMALL_PROJECT_TASKS = 2 * (18 + 4);
/** Plot tasks of a small project (one per collection): in the graph, built only when targeted. */
export const SMALL_PROJECT_PLOTS = 2;

/** The folder of one checkpoint in a small project's basic tree. */
export function basicFolder(dir: string, bs: number, width: number, data: string): string {
  return path.join(dir, `raw/basic/different_knobs_subset_${data}/bs_${bs}/normal/ResNet18_w${width}/metrics`);
}

export function parseJson<T = unknown>(ran: Ran): T {
  try {
    return JSON.parse(ran.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON value:\n${ran.stdout}\n--- stderr\n${ran.stderr}`);
  }
}
