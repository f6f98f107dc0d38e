/**
 * Writes checkpoint folders under a root, each file atomically (written under a temporary name in the
 * same folder, then renamed into place), so a reader never sees half a file even if the generator is
 * interrupted.
 *
 * The writes are synchronous, one at a time: for many small files (a folder is six files of 0.2 to 9 KB)
 * Node's synchronous calls measured faster here than promise-based ones at any concurrency (10,140 files
 * with rename: 1.7 s synchronous, 1.9 to 2.6 s with 16 folders in flight), because the per-call cost of the
 * thread pool round trip exceeds the write itself. The generator yields to the event loop between folders,
 * so progress output and Ctrl-C stay responsive.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SynthError } from './errors.js';

/** One folder to write: its path under the root, and a function making its files (called when its turn comes). */
export interface FolderJob {
  rel: string;
  build(): Map<string, Uint8Array>;
}

export interface WriteTreeOptions {
  /** File names that belong in a folder; those a job does not write are removed (a rerun leaves no stale file). */
  owned?: readonly string[];
  onProgress?: (done: number, total: number) => void;
  /** Stops between folders (the files written so far stay, each complete). */
  signal?: AbortSignal;
}

export interface WriteTreeResult {
  /** Folders written (a job without files makes none). */
  folders: number;
  files: number;
  bytes: number;
}

/** Folders written between two yields to the event loop. */
const YIELD_EVERY = 32;

/** Writes every job's files under `root`. Rejects with a SynthError naming the path on the first failure. */
export async function writeTree(root: string, jobs: readonly FolderJob[], opts: WriteTreeOptions = {}): Promise<WriteTreeResult> {
  let folders = 0;
  let files = 0;
  let bytes = 0;
  const made = new Set<string>();
  for (let i = 0; i < jobs.length; i++) {
    opts.signal?.throwIfAborted();
    const job = jobs[i];
    const dir = join(root, job.rel);
    const content = job.build();
    // A configuration without any file is a missing one: no folder (stale files of a rerun still go).
    if (content.size > 0) {
      makeFolder(dir, made);
      folders++;
    }
    for (const [name, data] of content) {
      writeAtomic(join(dir, name), data);
      bytes += data.length;
    }
    for (const name of opts.owned ?? []) {
      if (!content.has(name)) io(join(dir, name), () => rmSync(join(dir, name), { force: true }));
    }
    files += content.size;
    opts.onProgress?.(i + 1, jobs.length);
    if ((i + 1) % YIELD_EVERY === 0) await yieldToEventLoop();
  }
  return { folders, files, bytes };
}

/**
 * mkdir -p, remembering what exists: sibling folders share their parents, and a recursive mkdir per
 * folder would probe every level again (a third of the write time on a fresh tree).
 */
function makeFolder(dir: string, made: Set<string>): void {
  if (made.has(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir && !made.has(parent)) makeFolder(parent, made);
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') io(dir, () => mkdirSync(dir));
  }
  made.add(dir);
}

function writeAtomic(path: string, data: Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    io(path, () => writeFileSync(tmp, data));
    io(path, () => renameSync(tmp, path));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Runs a file-system call, turning its error into one that says which path and what to do. */
function io<T>(path: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const fixes: Record<string, string> = {
      EACCES: 'choose an output folder you can write to, or change its permissions',
      EPERM: 'choose an output folder you can write to, or change its permissions',
      EROFS: 'the file system is read-only: choose another output folder',
      ENOSPC: 'free disk space, or write fewer configurations (axes "small")',
      ENOTDIR: 'a file stands where a folder is needed: remove it or choose another output folder',
      EEXIST: 'a file stands where a folder is needed: remove it or choose another output folder',
      EISDIR: 'a folder stands where a metric file is to be written: remove it or choose another output folder',
    };
    throw new SynthError(`cannot write (${code || (e as Error).message})`, fixes[code] ?? 'check the output folder and try again', path);
  }
}
