/**
 * File identity and reading for input hashing.
 *
 * A file's content is the only truth; its stat (size, mtimeMs, ctimeMs, inode) is a hint that lets an
 * unchanged file skip re-hashing. The hint is only trusted when every field matches the memo, and a memo
 * is only written for a file whose mtime is older than {@link RACY_WINDOW_MS}: a file written within the
 * file system's timestamp granularity of our read could change again without its mtime changing (git's
 * "racily clean" problem), so such a file is hashed again next time. (ctime is compared but not required
 * to be old: any later write moves mtime past the memo, and setting mtime back moves ctime.)
 *
 * Times are Node's plain numbers (milliseconds as doubles, to ~0.25 us today), not the nanosecond
 * BigInts: a BigInt stat allocates a BigInt per field. A no-op run of the full-size tree (20,280 stats)
 * allocated 112 MB, 32 MB of it in stats, with BigInts, and 103 MB, 21 MB in stats, without; it took
 * 586 -> 563 ms (medians of 20, interleaved). The doubles tell apart any two times the kernel gives a
 * file: Linux stamps files from its coarse clock (a tick, 1-10 ms), and a stat that saw one version is a
 * syscall (microseconds) before any later write, so two versions never fall within 0.25 us of each other.
 *
 * Reads are synchronous on purpose: inputs are small files (a few kilobytes), for which the four
 * thread-pool round trips of an async read cost more than the read; the event loop is blocked for
 * microseconds per file.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import type { StatMemo } from '../cache/store.js';
import { InputTooLargeError } from './errors.js';

/**
 * Largest input file read when a task declares no `maxBytes`: far above any real input, and below the
 * 2 GiB a single `readSync` can fill.
 */
export const DEFAULT_MAX_INPUT_BYTES = 1024 ** 3;

/** What identifies a file's version without reading it. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** Files modified less than this long before we read them are not memoised (2 s covers FAT and HFS+). */
export const RACY_WINDOW_MS = 2_000;

function toFileStat(stats: Stats): FileStat {
  return { size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

/** Stat of a path, `undefined` if it does not exist. */
export function statFile(path: string): FileStat | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats ? toFileStat(stats) : undefined;
}

/** True if two stats describe the same file version. */
export function sameStat(a: FileStat | undefined, b: FileStat | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/**
 * Whether a memo for this stat may be written now (the file is outside the racy window).
 * @param nowMs the current time in ms since the epoch (pass one value for a batch of files)
 */
export function isMemoizable(stat: FileStat, nowMs: number = Date.now()): boolean {
  return nowMs - stat.mtimeMs >= RACY_WINDOW_MS;
}

/** The memo for a file: its stat and digest (a plain literal: object spread measured slow on 20,000 files). */
export function memoOf(stat: FileStat, digest: string): StatMemo {
  return { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, digest };
}

/**
 * Reads a file through one descriptor and returns its bytes with the stat of that same descriptor, taken
 * before reading. Exactly the stat's size is read: a file that changes during the read ends up with a
 * stat that no longer matches, so the change is seen by the post-run check and by the next run.
 * Returns `undefined` if the file does not exist.
 * @throws InputTooLargeError, before allocating anything, when the file is bigger than `maxBytes`
 */
export function readFileWithStat(path: string, maxBytes: number = DEFAULT_MAX_INPUT_BYTES): { bytes: Buffer; stat: FileStat } | undefined {
  let fd: number;
  try {
    // Non-blocking: a named pipe (FIFO) in place of a file would otherwise block this open until a writer
    // appears, hanging the run where not even Ctrl-C is heard; it now opens at once and fails the check below.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const kind = stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a named pipe' : stats.isSocket() ? 'a socket' : 'a device';
      throw Object.assign(new Error(`${path} is not a regular file (it is ${kind})`), { code: 'EISDIR' });
    }
    const size = stats.size;
    if (size > maxBytes) throw new InputTooLargeError(path, size, maxBytes);
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const n = readSync(fd, bytes, filled, size - filled, null);
      if (n === 0) break;
      filled += n;
    }
    return { bytes: filled === size ? bytes : bytes.subarray(0, filled), stat: toFileStat(stats) };
  } finally {
    closeSync(fd);
  }
}
