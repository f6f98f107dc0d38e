/**
 * The partition index: a manifest of every task without dependencies (the checkpoint partitions), kept
 * as a few values in the store, so that a build where they are unchanged reads one value per collection
 * instead of one record per task plus the stat memos of every input: a manifest keyed by partition, not
 * thousands of separate lookups.
 *
 * An entry says: this task's key was `key` and its output `out` when its inputs, in declaration order,
 * had these stats (size, mtimeMs, ctimeMs and inode, per file) and these content digests. A build that
 * finds the same stats recomputes the key from those digests and the current declaration (so a new code
 * version or parameter still misses), and on a match takes `out` without reading the record. Anything
 * else (no entry, other stats, another key, a record due for its last-use update) goes the ordinary way:
 * record, stat memos, hashing; and there, each input whose own stats still match the entry has its digest
 * from the entry, as from a stat memo. The index is the stat memo of these tasks' inputs: the engine
 * writes no separate memos for them.
 *
 * Stats are per file rather than one signature per task so that one touched file in a folder costs the
 * hashing of that file, not of its five neighbours. Paths are not in them: a file's inode and ctime (which
 * no user call can set back) identify its version; a moved tree keeps both and its contents, a copied one
 * gets new ones.
 *
 * It restates what records say and is never the only copy: the store drops it whenever records or blobs
 * are deleted (so it cannot vouch for a result that is gone, and a run killed after invalidating leaves no
 * index: the next run hashes those inputs again), and the engine writes what changed at the end of a run.
 * An input inside the racy window (see `file-state.ts`) is recorded as unknown, which no stat matches: its
 * task takes the ordinary path and the file is hashed again, like a file without a memo. Tasks with
 * published files are not indexed: their outputs must be checked too.
 *
 * Full records stay where they are, for `explain` and for the reasons of a re-run.
 *
 * One index per group, a group being a task id up to its last `/` (`parse:basic/bs16-w2-d10` is in
 * `parse:basic`): a change in one collection writes that collection's index and no other, so its cost does
 * not grow with the number of collections (at 10x, 20 of them).
 *
 * Columnar and binary: per group, the ids as one string, then keys, outputs, last-use times, and per input
 * file its stat as four doubles, a flag and its digest as 32 bytes, each column one typed array.
 * A build reads it with one base64 decode and a few copies, and looks entries up by row; the JSON layout
 * it replaces (v3: 3 MB for 3,380 partitions, one object and seven strings per entry) cost 100-150 ms to
 * parse and its garbage. Stored as base64 text because the store keeps index values as text.
 *
 * Stored as a base and a delta per group. A run that changes a few entries (a touched file, a new
 * checkpoint) writes only a delta of those entries, which applies to the base of its generation. When the
 * delta has grown past a sixteenth of the base (or 64 entries), the whole group is written as a new base,
 * of the next generation, and the old delta no longer applies to anything. Each is one value, written
 * whole: a run killed between writes leaves a base and a delta that are each what some run wrote (an entry
 * is only ever true for the stats it names), or a delta of an older generation, which is ignored.
 */
import { isDigest, type Digest } from '../cache/digest.js';
import type { FileDigest } from '../cache/record.js';
import type { FileStat } from './file-state.js';

/** Bumped when the layout changes (an index of another version is ignored). Names carry it too. */
const INDEX_VERSION = 5; // 5: stats as doubles (file-state.ts), not 64-bit integers
const MAGIC = 0x5844504d; // "MPDX" little-endian
/** A delta is folded into a new base once it holds more entries than this share of the base (or 64). */
const DELTA_SHARE = 1 / 16;
const DELTA_MIN = 64;

/**
 * Per input, in declaration order: its stat when the entry was made, `undefined` for an absent file, or
 * `null` when unknown (written inside the racy window: no stat matches it).
 */
export type IndexedStat = FileStat | undefined | null;

export interface IndexEntry {
  key: Digest;
  out: Digest;
  /** The record's last-use time (epoch ms): past the touch interval, the task takes the ordinary path. */
  usedAt: number;
  stats: IndexedStat[];
  /** Input digests in declaration order. */
  digests: FileDigest[];
}

/** The group of a task id: the id up to its last `/` (the id itself if it has none). */
export function groupOf(id: string): string {
  const cut = id.lastIndexOf('/');
  return cut < 0 ? id : id.slice(0, cut);
}

/** The store names of a group's base and delta. */
export function indexNames(group: string): { base: string; delta: string } {
  return { base: `partitions.v${INDEX_VERSION}:${group}`, delta: `partitions.v${INDEX_VERSION}:${group}.delta` };
}

const FLAG_KNOWN = 0;
const FLAG_ABSENT = 1;
const FLAG_UNKNOWN = 2;

/** Entries decoded into columns (one stored value). */
class Table {
  constructor(
    readonly generation: number,
    readonly ids: string[],
    readonly removed: string[],
    readonly keys: Uint8Array,
    readonly outs: Uint8Array,
    readonly usedAt: Float64Array,
    readonly fileStart: Uint32Array,
    readonly flags: Uint8Array,
    readonly stats: Float64Array,
    readonly digests: Uint8Array,
  ) {}

  #hex: [keys: string, outs: string, digests: string] | undefined;

  entry(row: number): IndexEntry {
    // Each column turned to hex once, entries slicing it: one Buffer and toString per digest cost ~30 us
    // per entry, more than the rest of deciding a task.
    const [keys, outs, digestsHex] = (this.#hex ??= [this.keys, this.outs, this.digests].map((column) =>
      Buffer.from(column.buffer, column.byteOffset, column.byteLength).toString('hex'),
    ) as [string, string, string]);
    const hex = (column: string, k: number): string => column.slice(64 * k, 64 * k + 64);
    const start = this.fileStart[row];
    const end = this.fileStart[row + 1];
    const stats = new Array<IndexedStat>(end - start);
    const digests = new Array<FileDigest>(end - start);
    for (let f = start; f < end; f++) {
      const flag = this.flags[f];
      if (flag === FLAG_ABSENT) {
        stats[f - start] = undefined;
        digests[f - start] = 'absent';
        continue;
      }
      const s = 4 * f;
      stats[f - start] = flag === FLAG_UNKNOWN ? null : { size: this.stats[s], mtimeMs: this.stats[s + 1], ctimeMs: this.stats[s + 2], ino: this.stats[s + 3] };
      digests[f - start] = hex(digestsHex, f);
    }
    return { key: hex(keys, row), out: hex(outs, row), usedAt: this.usedAt[row], stats, digests };
  }
}

/** Whether an entry can be stored (every digest SHA-256 hex): others are left out of the index. */
function storable(entry: IndexEntry): boolean {
  if (!isDigest(entry.key) || !isDigest(entry.out) || entry.stats.length !== entry.digests.length) return false;
  for (let f = 0; f < entry.digests.length; f++) {
    const digest = entry.digests[f];
    if (digest === 'absent' ? entry.stats[f] !== undefined : !isDigest(digest) || entry.stats[f] === undefined) return false;
  }
  return true;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** One stored value: `entries` (a base, or the entries a delta sets) and the ids a delta removes. */
export function encodeTable(generation: number, entries: ReadonlyArray<readonly [string, IndexEntry]>, removed: readonly string[] = []): string {
  const kept = entries.filter(([, entry]) => storable(entry));
  const files = kept.reduce((n, [, entry]) => n + entry.digests.length, 0);
  const ids = Buffer.from(kept.map(([id]) => id).join('\n'), 'utf8');
  const gone = Buffer.from(removed.join('\n'), 'utf8');
  const n = kept.length;
  const layout = (start: number, sizes: number[]): number[] => {
    const offsets: number[] = [];
    let at = start;
    for (const size of sizes) {
      at = align8(at);
      offsets.push(at);
      at += size;
    }
    offsets.push(at);
    return offsets;
  };
  const HEADER = 32;
  const [idsAt, goneAt, keysAt, outsAt, usedAt, startAt, flagsAt, statsAt, digestsAt, end] = layout(HEADER, [
    ids.length, gone.length, 32 * n, 32 * n, 8 * n, 4 * (n + 1), files, 32 * files, 32 * files,
  ]);
  const buffer = new ArrayBuffer(end);
  // Hex digests are written straight into the value (`Buffer.write`), with no Buffer per digest.
  const bytes = Buffer.from(buffer);
  const header = new DataView(buffer);
  [MAGIC, INDEX_VERSION, generation, n, files, ids.length, gone.length].forEach((value, k) => header.setUint32(4 * k, value, true));
  bytes.set(ids, idsAt);
  bytes.set(gone, goneAt);
  const used = new Float64Array(buffer, usedAt, n);
  const fileStart = new Uint32Array(buffer, startAt, n + 1);
  const stats = new Float64Array(buffer, statsAt, 4 * files);
  let f = 0;
  kept.forEach(([, entry], row) => {
    bytes.write(entry.key, keysAt + 32 * row, 32, 'hex');
    bytes.write(entry.out, outsAt + 32 * row, 32, 'hex');
    used[row] = entry.usedAt;
    fileStart[row] = f;
    for (let k = 0; k < entry.digests.length; k++, f++) {
      const stat = entry.stats[k];
      if (stat === undefined) {
        bytes[flagsAt + f] = FLAG_ABSENT;
        continue;
      }
      bytes[flagsAt + f] = stat === null ? FLAG_UNKNOWN : FLAG_KNOWN;
      if (stat !== null) {
        stats[4 * f] = stat.size;
        stats[4 * f + 1] = stat.mtimeMs;
        stats[4 * f + 2] = stat.ctimeMs;
        stats[4 * f + 3] = stat.ino;
      }
      bytes.write(entry.digests[k], digestsAt + 32 * f, 32, 'hex');
    }
  });
  fileStart[n] = f;
  return bytes.toString('base64');
}

/** Reads a stored value; anything unreadable or of another version is undefined. */
export function decodeTable(text: string | undefined): Table | undefined {
  if (typeof text !== 'string' || text.length < 44) return undefined;
  // Copied into a fresh ArrayBuffer: the typed arrays below need 8-byte aligned offsets.
  const buffer = new Uint8Array(Buffer.from(text, 'base64')).buffer;
  if (buffer.byteLength < 32) return undefined;
  const header = new DataView(buffer);
  const [magic, version, generation, n, files, idsLength, goneLength] = Array.from({ length: 7 }, (_, k) => header.getUint32(4 * k, true));
  if (magic !== MAGIC || version !== INDEX_VERSION) return undefined;
  let at = 32;
  const take = (size: number): number => {
    const start = align8(at);
    at = start + size;
    return start;
  };
  const idsAt = take(idsLength);
  const goneAt = take(goneLength);
  const keysAt = take(32 * n);
  const outsAt = take(32 * n);
  const usedAt = take(8 * n);
  const startAt = take(4 * (n + 1));
  const flagsAt = take(files);
  const statsAt = take(32 * files);
  const digestsAt = take(32 * files);
  if (at !== buffer.byteLength) return undefined;
  const text8 = (start: number, length: number): string[] => (length === 0 ? [] : Buffer.from(buffer, start, length).toString('utf8').split('\n'));
  const ids = text8(idsAt, idsLength);
  const fileStart = new Uint32Array(buffer, startAt, n + 1);
  if (ids.length !== n || fileStart[n] !== files) return undefined;
  for (let row = 0; row < n; row++) if (fileStart[row] > fileStart[row + 1]) return undefined;
  return new Table(
    generation,
    ids,
    text8(goneAt, goneLength),
    new Uint8Array(buffer, keysAt, 32 * n),
    new Uint8Array(buffer, outsAt, 32 * n),
    new Float64Array(buffer, usedAt, n),
    fileStart,
    new Uint8Array(buffer, flagsAt, files),
    new Float64Array(buffer, statsAt, 4 * files),
    new Uint8Array(buffer, digestsAt, 32 * files),
  );
}

/** One group as a build loads it: its base (by row), the stored delta over it, and this build's changes. */
class Group {
  readonly rows = new Map<string, number>();
  /** What the stored delta sets (an entry) or removes (null) over the base. */
  readonly delta = new Map<string, IndexEntry | null>();
  /** What this build changed. */
  readonly changes = new Map<string, IndexEntry | null>();

  constructor(
    readonly name: string,
    public base: Table | undefined,
    deltaTable: Table | undefined,
  ) {
    if (base) base.ids.forEach((id, row) => this.rows.set(id, row));
    if (base && deltaTable && deltaTable.generation === base.generation) {
      for (const id of deltaTable.removed) this.delta.set(id, null);
      deltaTable.ids.forEach((id, row) => this.delta.set(id, deltaTable.entry(row)));
    }
  }

  get(id: string): IndexEntry | undefined {
    const changed = this.changes.get(id);
    if (changed !== undefined) return changed ?? undefined;
    const delta = this.delta.get(id);
    if (delta !== undefined) return delta ?? undefined;
    const row = this.rows.get(id);
    return row === undefined ? undefined : this.base!.entry(row);
  }

  ids(): Set<string> {
    const ids = new Set(this.rows.keys());
    for (const source of [this.delta, this.changes]) for (const [id, entry] of source) (entry === null ? ids.delete(id) : ids.add(id));
    return ids;
  }

  /** [name, text] pairs to store: the delta grown by this build's changes, or the whole group as a new base. */
  writes(dropped: boolean): Array<[string, string]> {
    if (this.changes.size === 0 && !dropped) return [];
    const names = indexNames(this.name);
    const delta = new Map(this.delta);
    for (const [id, entry] of this.changes) delta.set(id, entry);
    const generation = this.base?.generation ?? 0;
    if (dropped || this.base === undefined || delta.size > Math.max(DELTA_MIN, this.rows.size * DELTA_SHARE)) {
      const entries: [string, IndexEntry][] = [];
      for (const id of this.ids()) entries.push([id, this.get(id)!]);
      return [[names.base, encodeTable(generation + 1, entries)]];
    }
    const set: [string, IndexEntry][] = [];
    const removed: string[] = [];
    for (const [id, entry] of delta) (entry === null ? removed.push(id) : set.push([id, entry]));
    return [[names.delta, encodeTable(generation, set, removed)]];
  }
}

/** The index of the groups a build needs. */
export class PartitionIndex {
  readonly #groups = new Map<string, Group>();

  /** Reads the base and delta of each group (an unreadable one is an empty group, written anew). */
  static async load(read: (name: string) => Promise<string | undefined>, groups: Iterable<string>): Promise<PartitionIndex> {
    const index = new PartitionIndex();
    await Promise.all(
      [...new Set(groups)].map(async (group) => {
        const names = indexNames(group);
        const [base, delta] = await Promise.all([read(names.base), read(names.delta)]);
        index.#groups.set(group, new Group(group, decodeTable(base), decodeTable(delta)));
      }),
    );
    return index;
  }

  /** Entries in the loaded groups (base, delta and changes). */
  get size(): number {
    let n = 0;
    for (const group of this.#groups.values()) n += group.rows.size + group.delta.size;
    return n;
  }

  get(id: string): IndexEntry | undefined {
    return this.#groups.get(groupOf(id))?.get(id);
  }

  /** Every id with an entry, in the loaded groups. */
  ids(): string[] {
    return [...this.#groups.values()].flatMap((group) => [...group.ids()]);
  }

  /** Records this build's entry for `id` (null: none); a group not loaded is created empty. */
  set(id: string, entry: IndexEntry | null): void {
    const name = groupOf(id);
    let group = this.#groups.get(name);
    if (!group) this.#groups.set(name, (group = new Group(name, undefined, undefined)));
    group.changes.set(id, entry);
  }

  /**
   * [name, text] pairs to store, per group that changed: a delta, or a new base when there is none to
   * apply a delta to (none stored, or `dropped`: the store deleted the index during the build) or the
   * delta is past its limit.
   */
  writes(dropped: boolean): Array<[string, string]> {
    return [...this.#groups.values()].flatMap((group) => group.writes(dropped));
  }
}
