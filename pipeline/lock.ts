/**
 * The project lock: one writer per cache directory at a time.
 *
 * proper-lockfile gives an atomic lock (a `mkdir`) with mtime heartbeats, so a lock whose holder died on
 * another host goes stale after `staleMs`. Next to it we keep a small holder file (pid, host, command,
 * start time) so a refused run can name who holds the lock, and so a lock left by a process that was
 * killed on this host (SIGKILL leaves no chance to clean up) is recovered at once: its pid is gone.
 *
 * Read-only commands (`status`, `explain`, `graph`) do not take it: SQLite's WAL lets them read while a
 * run writes.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { processIsAlive } from '../util/process.js';
import { CacheDirectoryError, LockedError, type LockHolder } from './errors.js';

export interface LockOptions {
  /** Wait for the holder to finish instead of failing with `LockedError`. */
  wait?: boolean;
  /** Stop waiting when aborted. */
  signal?: AbortSignal;
  /** A lock whose heartbeat is older than this is stale (default 60 s; heartbeats every staleMs / 4). */
  staleMs?: number;
  /** How often a waiting run retries (default 250 ms). */
  pollMs?: number;
  /** Recorded in the holder file (default: this process's argv). */
  command?: string;
  /** Called if the lock is lost while held (the holder was suspended past `staleMs` and another run took it). */
  onCompromised?: (error: Error) => void;
}

export interface ProjectLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

const LOCK_DIR = 'mdpipe.lock';
const HOLDER_FILE = 'mdpipe.lock.holder.json';
/** How long a refused run waits for a lock's holder file to appear (it is written right after the lock). */
const HOLDER_GRACE_MS = 1_000;

/** Who holds the lock of `cacheDir`, if the holder file says. */
export function readLockHolder(cacheDir: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(join(cacheDir, HOLDER_FILE), 'utf8')) as LockHolder;
    return typeof holder?.pid === 'number' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of `cacheDir` (created if needed).
 * @throws LockedError when another live process holds it and `wait` is false
 * @throws CacheDirectoryError when the directory or the lock cannot be written (permissions, a full disk)
 */
export async function acquireProjectLock(cacheDir: string, options: LockOptions = {}): Promise<ProjectLock> {
  try {
    mkdirSync(cacheDir, { recursive: true });
  } catch (error) {
    throw new CacheDirectoryError(cacheDir, error);
  }
  const lockfilePath = join(cacheDir, LOCK_DIR);
  const stale = Math.max(options.staleMs ?? 60_000, 2_000);
  for (;;) {
    try {
      const release = await lockfile.lock(cacheDir, {
        lockfilePath,
        realpath: false,
        stale,
        update: Math.max(1_000, Math.floor(stale / 4)),
        retries: 0,
        onCompromised: options.onCompromised ?? (() => {}),
      });
      const holder: LockHolder = {
        pid: process.pid,
        host: hostname(),
        command: options.command ?? process.argv.slice(1).join(' '),
        startedAt: new Date().toISOString(),
      };
      const holderPath = join(cacheDir, HOLDER_FILE);
      const temporary = `${holderPath}.tmp-${process.pid}`;
      try {
        writeFileSync(temporary, JSON.stringify(holder));
        renameSync(temporary, holderPath);
      } catch (error) {
        // A full disk, say: give the lock back and leave no temporary behind.
        rmSync(temporary, { force: true });
        await release().catch(() => {});
        throw new CacheDirectoryError(cacheDir, error);
      }
      return {
        holder,
        release: async () => {
          const current = readLockHolder(cacheDir);
          if (current?.pid === holder.pid && current.startedAt === holder.startedAt) rmSync(holderPath, { force: true });
          await release().catch(() => {});
        },
      };
    } catch (error) {
      if (error instanceof CacheDirectoryError) throw error;
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw new CacheDirectoryError(cacheDir, error);
    }
    let holder = readLockHolder(cacheDir);
    // The holder writes its file just after taking the lock: a run that lost the race by a hair finds the
    // lock without it. Give it a moment, so that a refusal can name who holds the lock.
    for (let waited = 0; holder === undefined && waited < HOLDER_GRACE_MS && existsSync(lockfilePath); waited += 20) {
      await sleep(20);
      holder = readLockHolder(cacheDir);
    }
    if (holder === undefined && !existsSync(lockfilePath)) continue; // released meanwhile: try again
    if (holder && holder.host === hostname() && !processIsAlive(holder.pid)) {
      // Left by a process that died without releasing it (SIGKILL, power loss): take it over.
      rmSync(lockfilePath, { recursive: true, force: true });
      rmSync(join(cacheDir, HOLDER_FILE), { force: true });
      continue;
    }
    if (!options.wait) throw new LockedError(cacheDir, holder);
    if (options.signal?.aborted) throw new LockedError(cacheDir, holder);
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => {});
  }
}
