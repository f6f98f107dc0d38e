/**
 * The project lock: one writer per cache directory at a time.
 *
 * proper-lockfile gives an atomic lock (a `mkdir`) with mtime heartbeats, so a lock whose holder died on
 * another host goes stale after `staleMs`. Next to it we keep a small holder file (pid, host, command,
 * start time) so a refused run can name who holds the lock, and so a lock left by a process that was
 * killed on this host (SIGKILL leaves no chance to clean up) is recovered at once: its pid is gone.
 *
 * The holder file cannot be written in the same step as the lock is taken, so a taker first writes a claim
 * (`mdpipe.lock.claim-<pid>.json`, the same content) and renames it to the holder file once it holds the
 * lock. At every moment a live holder on this host is named by its claim or by the holder file. A lock
 * with neither, once a short grace has passed, was left by a process killed between taking the lock and
 * naming itself, or between un-naming itself and giving the lock back (a SIGKILL loop in
 * test/reliability found a run refused as "locked" by nobody), and is taken over at once.
 *
 * Read-only commands (`status`, `explain`, `graph`) do not take it: SQLite's WAL lets them read while a
 * run writes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
/** A taker's claim, written before it takes the lock: `mdpipe.lock.claim-<pid>.json`. */
const CLAIM_PREFIX = 'mdpipe.lock.claim-';
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
  const holderPath = join(cacheDir, HOLDER_FILE);
  const claimPath = join(cacheDir, `${CLAIM_PREFIX}${process.pid}.json`);
  for (;;) {
    const mine: LockHolder = {
      pid: process.pid,
      host: hostname(),
      command: options.command ?? process.argv.slice(1).join(' '),
      startedAt: new Date().toISOString(),
    };
    try {
      writeFileSync(claimPath, JSON.stringify(mine));
    } catch (error) {
      throw new CacheDirectoryError(cacheDir, error);
    }
    try {
      let release: () => Promise<void>;
      try {
        release = await lockfile.lock(cacheDir, {
          lockfilePath,
          realpath: false,
          stale,
          update: Math.max(1_000, Math.floor(stale / 4)),
          retries: 0,
          onCompromised: options.onCompromised ?? (() => {}),
        });
      } catch (error) {
        rmSync(claimPath, { force: true });
        throw error;
      }
      try {
        renameSync(claimPath, holderPath);
      } catch (error) {
        // A full disk, say: give the lock back and leave no claim behind.
        rmSync(claimPath, { force: true });
        await release().catch(() => {});
        throw new CacheDirectoryError(cacheDir, error);
      }
      removeDeadClaims(cacheDir);
      return {
        holder: mine,
        release: async () => {
          const current = readLockHolder(cacheDir);
          if (current?.pid === mine.pid && current.startedAt === mine.startedAt) rmSync(holderPath, { force: true });
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
    if (holder && !mayBeAlive(holder.pid, holder.host)) {
      // Left by a process that died without releasing it (SIGKILL, power loss): take it over.
      rmSync(lockfilePath, { recursive: true, force: true });
      rmSync(holderPath, { force: true });
      continue;
    }
    if (holder === undefined && !liveClaim(cacheDir)) {
      // Named by no holder file and claimed by no live process: its taker died before naming itself, or
      // while giving it back (see the header). Take it over.
      rmSync(lockfilePath, { recursive: true, force: true });
      continue;
    }
    if (!options.wait) throw new LockedError(cacheDir, holder);
    if (options.signal?.aborted) throw new LockedError(cacheDir, holder);
    await sleep(options.pollMs ?? 250, undefined, { signal: options.signal }).catch(() => {});
  }
}

/** The claims in `cacheDir`: the pid in each name, and the host inside (undefined if unreadable). */
function claims(cacheDir: string): { file: string; pid: number; host: string | undefined }[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(CLAIM_PREFIX) && name.endsWith('.json'))
    .map((name) => {
      const file = join(cacheDir, name);
      let host: string | undefined;
      try {
        host = (JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>).host;
      } catch {
        host = undefined; // cut short by a kill while it was written, or removed meanwhile
      }
      return { file, pid: Number(name.slice(CLAIM_PREFIX.length, -'.json'.length)), host };
    });
}

/**
 * Whether the process that wrote a holder file or a claim may still run: one on another host cannot be
 * checked from here, so it may; one on this host (`host` unknown: an unreadable claim, written here
 * since its name carries a pid of this host's) if its pid is alive.
 */
function mayBeAlive(pid: number, host: string | undefined): boolean {
  return (host !== undefined && host !== hostname()) || !Number.isInteger(pid) || processIsAlive(pid);
}

/** Whether a process that may hold the lock has a claim. */
function liveClaim(cacheDir: string): boolean {
  return claims(cacheDir).some(({ pid, host }) => mayBeAlive(pid, host));
}

/** Removes claims this host's dead processes left (a kill between writing a claim and using it). */
function removeDeadClaims(cacheDir: string): void {
  for (const { file, pid, host } of claims(cacheDir)) if (!mayBeAlive(pid, host)) rmSync(file, { force: true });
}
