/**
 * The partition index: a manifest of every task without dependencies (the checkpoint partitions), kept
 * as one value in the store, so that a build where they are unchanged reads one value instead of one
 * record per task plus the stat memos of every input (ANCHORS lesson 14: "a manifest keyed by partition,
 * not N separate lookups").
 *
 * An entry says: this task's key was `key` and its output `out` when its inputs, in declaration order,
 * had these stats (`stats`: size, mtimeNs, ctimeNs and inode, per file) and these content digests
 * (`digests`). A build that finds the same stats recomputes the key from those digests and the current
 * declaration (so a new code version or parameter still misses), and on a match takes `out` without
 * reading the record. Anything else (no entry, other stats, another key, a record due for its last-use
 * update) goes the ordinary way: record, stat memos, hashing; and there, each input whose own stats still
 * match the entry has its digest from the entry, as from a stat memo. The index is the stat memo of these
 * tasks' inputs: the engine writes no separate memos for them.
 *
 * Stats are per file rather than one signature per task so that one touched file in a folder costs the
 * hashing of that file, not of its five neighbours. Paths are not in them: a file's inode and ctime (which
 * no user call can set back) identify its version; a moved tree keeps both and its contents, a copied one
 * gets new ones.
 *
 * It restates what records say and is never the only copy: the store drops it whenever records or blobs
 * are deleted (so it cannot vouch for a result that is gone, and a run killed after invalidating leaves no
 * index: the next run hashes those inputs again), and the engine writes it anew at the end of a run that
 * changed anything. An input inside the racy window (see `file-state.ts`) is recorded as `?`, which no
 * stat matches: its task takes the ordinary path and the file is hashed again, like a file without a memo.
 * Tasks with published files are not indexed: their outputs must be checked too.
 *
 * Full records stay where they are, for `explain` and for the reasons of a re-run.
 */
import type { Digest } from '../cache/digest.js';
import type { FileDigest } from '../cache/record.js';
import type { FileStat } from './file-state.js';

/** The name the index is stored under. */
export const PARTITION_INDEX = 'partitions';
/** Bumped when the entry layout or the stat text changes (an index of another version is ignored). */
const INDEX_VERSION = 2;

/** The stat text of a file the entry cannot vouch for (written inside the racy window). */
export const UNKNOWN_STAT = '?';

export interface IndexEntry {
  key: Digest;
  out: Digest;
  /** The record's last-use time (epoch ms): past the touch interval, the task takes the ordinary path. */
  usedAt: number;
  /** Per input, in declaration order: {@link statText}, or {@link UNKNOWN_STAT}. */
  stats: string[];
  /** Input digests in declaration order. */
  digests: FileDigest[];
}

type StoredEntry = [key: string, out: string, usedAt: number, stats: string, digests: string];

/** Reads the stored text; anything unreadable or of another version is an empty index. */
export function decodeIndex(text: string | undefined): Map<string, IndexEntry> {
  const index = new Map<string, IndexEntry>();
  if (text === undefined) return index;
  let parsed: { v?: unknown; e?: Record<string, StoredEntry> };
  try {
    parsed = JSON.parse(text);
  } catch {
    return index;
  }
  if (parsed?.v !== INDEX_VERSION || typeof parsed.e !== 'object' || parsed.e === null) return index;
  for (const id of Object.keys(parsed.e)) {
    const e = parsed.e[id];
    if (!Array.isArray(e) || e.length !== 5 || typeof e[3] !== 'string' || typeof e[4] !== 'string') continue;
    const stats = e[3] === '' ? [] : e[3].split(',');
    const digests = e[4] === '' ? [] : (e[4].split(',') as FileDigest[]);
    if (stats.length !== digests.length) continue;
    index.set(id, { key: e[0], out: e[1], usedAt: e[2], stats, digests });
  }
  return index;
}

export function encodeIndex(index: ReadonlyMap<string, IndexEntry>): string {
  const e: Record<string, StoredEntry> = {};
  for (const [id, entry] of index) e[id] = [entry.key, entry.out, entry.usedAt, entry.stats.join(','), entry.digests.join(',')];
  return JSON.stringify({ v: INDEX_VERSION, e });
}

/** A file's stats as the index keeps them (`undefined`: absent): `size:mtimeNs:ctimeNs:ino`, or `absent`. */
export function statText(stat: FileStat | undefined): string {
  return stat === undefined ? 'absent' : `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
}
