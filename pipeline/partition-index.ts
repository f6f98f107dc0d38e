/**
 * The partition index: a manifest of every task without dependencies (the checkpoint partitions), kept
 * as one value in the store, so that a build where they are unchanged reads one value instead of one
 * record per task plus the stat memos of every input (ANCHORS lesson 14: "a manifest keyed by partition,
 * not N separate lookups").
 *
 * An entry says: this task's key was `key` and its output `out` when its inputs, at these paths, had these
 * stats (`sig`, a digest of the paths and their size, mtimeNs, ctimeNs and inode) and these content digests
 * (`digests`). A build that finds the same stats recomputes the key from those digests and the current
 * declaration (so a new code version or parameter still misses), and on a match takes `out` without
 * reading the record. Anything else (no entry, other stats, another key, a record due for its last-use
 * update) goes the ordinary way: record, stat memos, hashing.
 *
 * It restates what records and memos say and is never the only copy: the store drops it whenever records
 * or blobs are deleted (so it cannot vouch for a result that is gone, and a run killed after invalidating
 * leaves no index), and the engine writes it anew at the end of a run that changed anything. Entries are
 * only written for inputs outside the racy window (see `file-state.ts`), like stat memos. Tasks with
 * published files are not indexed: their outputs must be checked too.
 *
 * Full records stay where they are, for `explain` and for the reasons of a re-run.
 */
import { sha256, type Digest } from '../cache/digest.js';
import type { FileDigest } from '../cache/record.js';
import type { FileStat } from './file-state.js';

/** The name the index is stored under. */
export const PARTITION_INDEX = 'partitions';
/** Bumped when the entry layout or the signature changes (an index of another version is ignored). */
const INDEX_VERSION = 1;

export interface IndexEntry {
  key: Digest;
  out: Digest;
  /** The record's last-use time (epoch ms): past the touch interval, the task takes the ordinary path. */
  usedAt: number;
  sig: Digest;
  /** Input digests in declaration order. */
  digests: FileDigest[];
}

type StoredEntry = [key: string, out: string, usedAt: number, sig: string, digests: string];

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
    if (!Array.isArray(e) || e.length !== 5) continue;
    index.set(id, { key: e[0], out: e[1], usedAt: e[2], sig: e[3], digests: e[4] === '' ? [] : (e[4].split(',') as FileDigest[]) });
  }
  return index;
}

export function encodeIndex(index: ReadonlyMap<string, IndexEntry>): string {
  const e: Record<string, StoredEntry> = {};
  for (const [id, entry] of index) e[id] = [entry.key, entry.out, entry.usedAt, entry.sig, entry.digests.join(',')];
  return JSON.stringify({ v: INDEX_VERSION, e });
}

/**
 * The signature of a task's inputs as they are now: their paths and stats (`undefined`: absent).
 * Paths are in it (unlike in the key) so that a moved tree takes the ordinary path, where memos decide.
 */
export function inputSignature(paths: readonly string[], stats: readonly (FileStat | undefined)[]): Digest {
  let text = '';
  for (let f = 0; f < paths.length; f++) {
    const s = stats[f];
    text += s === undefined ? `${paths[f]}\0absent\n` : `${paths[f]}\0${s.size}\0${s.mtimeNs}\0${s.ctimeNs}\0${s.ino}\n`;
  }
  return sha256(text);
}
