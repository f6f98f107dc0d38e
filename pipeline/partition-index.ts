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
 *
 * Stored as a base and a delta. The base (3 MB for 3,380 partitions) costs ~70 ms to encode and store, so
 * a run that changes a few entries (a touched file, whose entry gets its new stats) writes only a delta of
 * those entries, which applies to the base of its generation. When the delta has grown past a sixteenth of
 * the base, the whole index is written as a new base, of the next generation, and the old delta no longer
 * applies to anything. Each is one value, written whole: a run killed between writes leaves a base and a
 * delta that are each what some run wrote (an entry is only ever true for the stats it names), or a delta
 * of an older generation, which is ignored.
 */
import type { Digest } from '../cache/digest.js';
import type { FileDigest } from '../cache/record.js';
import type { FileStat } from './file-state.js';

/** The names the index is stored under: the base, and the delta over it. */
export const PARTITION_INDEX = 'partitions';
export const PARTITION_INDEX_DELTA = 'partitions.delta';
/** Bumped when the entry layout or the stat text changes (an index of another version is ignored). */
const INDEX_VERSION = 3;
/** A delta is folded into a new base once it holds more entries than this share of the base (or 64). */
const DELTA_SHARE = 1 / 16;

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

/** One stored value: the base (`d` absent) or a delta (`d`: ids it removes), with its generation. */
interface StoredValue {
  generation: number;
  entries: Map<string, IndexEntry>;
  removed: string[];
}

/** The index as a build loads it: every entry, and what it needs to write the next delta or base. */
export interface LoadedIndex {
  entries: Map<string, IndexEntry>;
  generation: number;
  /** False when no base is stored (a first build, a dropped or unreadable index): the next write is one. */
  hasBase: boolean;
  /** What the stored delta sets (an entry) or removes (null) over the base. */
  delta: Map<string, IndexEntry | null>;
}

/** Reads the stored text; anything unreadable or of another version is undefined. */
function parseValue(text: string | undefined): StoredValue | undefined {
  if (text === undefined) return undefined;
  let parsed: { v?: unknown; g?: unknown; e?: Record<string, StoredEntry>; d?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed?.v !== INDEX_VERSION || !Number.isSafeInteger(parsed.g) || typeof parsed.e !== 'object' || parsed.e === null) return undefined;
  const entries = new Map<string, IndexEntry>();
  for (const id of Object.keys(parsed.e)) {
    const e = parsed.e[id];
    if (!Array.isArray(e) || e.length !== 5 || typeof e[3] !== 'string' || typeof e[4] !== 'string') continue;
    const stats = e[3] === '' ? [] : e[3].split(',');
    const digests = e[4] === '' ? [] : (e[4].split(',') as FileDigest[]);
    if (stats.length !== digests.length) continue;
    entries.set(id, { key: e[0], out: e[1], usedAt: e[2], stats, digests });
  }
  const removed = Array.isArray(parsed.d) ? parsed.d.filter((id): id is string => typeof id === 'string') : [];
  return { generation: parsed.g as number, entries, removed };
}

function encodeValue(generation: number, entries: Iterable<[string, IndexEntry]>, removed?: string[]): string {
  const e: Record<string, StoredEntry> = {};
  for (const [id, entry] of entries) e[id] = [entry.key, entry.out, entry.usedAt, entry.stats.join(','), entry.digests.join(',')];
  return JSON.stringify(removed === undefined ? { v: INDEX_VERSION, g: generation, e } : { v: INDEX_VERSION, g: generation, e, d: removed });
}

/** The entries of a stored base alone (for tests and tools); anything unreadable is an empty index. */
export function decodeIndex(text: string | undefined): Map<string, IndexEntry> {
  return parseValue(text)?.entries ?? new Map();
}

/** A stored base of the given generation. */
export function encodeIndex(index: ReadonlyMap<string, IndexEntry>, generation = 0): string {
  return encodeValue(generation, index);
}

/** The index from its stored base and delta (the delta applies only to the base of its generation). */
export function loadIndex(baseText: string | undefined, deltaText: string | undefined): LoadedIndex {
  const base = parseValue(baseText);
  if (base === undefined) return { entries: new Map(), generation: 0, hasBase: false, delta: new Map() };
  const stored = parseValue(deltaText);
  const delta = new Map<string, IndexEntry | null>();
  if (stored !== undefined && stored.generation === base.generation) {
    for (const id of stored.removed) delta.set(id, null);
    for (const [id, entry] of stored.entries) delta.set(id, entry);
  }
  const entries = base.entries;
  for (const [id, entry] of delta) {
    if (entry === null) entries.delete(id);
    else entries.set(id, entry);
  }
  return { entries, generation: base.generation, hasBase: true, delta };
}

/**
 * What to store after a build changed `changes` (an id's new entry, or null: gone) in `loaded.entries`
 * (already applied there): the delta grown by them, or the whole index as a new base when there is no
 * base to apply a delta to (none stored, or dropped during the build) or the delta is past its limit. Returns [name, text] pairs to put in order.
 */
export function indexWrites(loaded: LoadedIndex, changes: ReadonlyMap<string, IndexEntry | null>, dropped: boolean): Array<[string, string]> {
  const delta = new Map(loaded.delta);
  for (const [id, entry] of changes) delta.set(id, entry);
  if (dropped || !loaded.hasBase || delta.size > Math.max(64, loaded.entries.size * DELTA_SHARE)) {
    loaded.generation += 1;
    loaded.hasBase = true;
    loaded.delta = new Map();
    return [[PARTITION_INDEX, encodeValue(loaded.generation, loaded.entries)]];
  }
  loaded.delta = delta;
  const set: Array<[string, IndexEntry]> = [];
  const removed: string[] = [];
  for (const [id, entry] of delta) {
    if (entry === null) removed.push(id);
    else set.push([id, entry]);
  }
  return [[PARTITION_INDEX_DELTA, encodeValue(loaded.generation, set, removed)]];
}

/** A file's stats as the index keeps them (`undefined`: absent): `size:mtimeNs:ctimeNs:ino`, or `absent`. */
export function statText(stat: FileStat | undefined): string {
  return stat === undefined ? 'absent' : `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`;
}
