/**
 * Step 0 of the build (see `index.ts`): the partition index (`../partition-index.ts`, one value per
 * collection in the store) decides tasks without dependencies from a `stat` per input, with no record
 * read; and at the end of a run the index is brought up to date (as a delta, or a new base past a
 * sixteenth), in the collections that changed only.
 */
import type { Digest } from '../../cache/digest.js';
import type { CacheStore } from '../../cache/store.js';
import { isMemoizable, sameStat, statFile, type FileStat } from '../file-state.js';
import { computeKey } from '../fingerprint.js';
import { groupOf, PartitionIndex, type IndexedStat, type IndexEntry } from '../partition-index.js';
import type { BuildContext } from './context.js';

/** Records are rewritten with a new `usedAt` at most this often (like `relatime`), for GC by age. */
export const TOUCH_INTERVAL_MS = 60 * 60 * 1000;

export class IndexFastPath {
  #index: PartitionIndex | undefined;
  /** Records were deleted in this run (a lost blob), and with them the stored index: write it again. */
  dropped = false;
  /**
   * Inputs whose stats match their task's index entry although the entry could not decide the task (its
   * record is due for its last-use update, or the declaration changed): path id, stat, digest. The entry
   * vouches for their digests as a stat memo would (see `decide`).
   */
  readonly vouched: [number, FileStat | undefined, Digest | 'absent'][] = [];

  constructor(private readonly c: BuildContext) {}

  get size(): number {
    return this.#index?.size ?? 0;
  }

  /** Loads the index of every group (collection) that has a task without dependencies in scope. */
  async load(store: CacheStore, order: readonly number[]): Promise<void> {
    const getIndex = store.getIndex?.bind(store);
    if (!getIndex) return;
    const { g } = this.c;
    const groups = new Set<string>();
    for (const i of order) if (g.deps[i].length === 0) groups.add(groupOf(g.ids[i]));
    this.#index = await PartitionIndex.load(getIndex, groups);
  }

  /**
   * True (and the task marked fast, its output digest known) if the index vouches for task `i`. Where it
   * cannot decide the task (an input changed, its record is due for its last-use update, the declaration
   * changed), each input whose stats still match the entry has its digest from it: the entry records only
   * inputs outside the racy window, as a stat memo does, with the same stat fields. That is why tasks the
   * index covers need no stat memos of their own (`covers`). Inputs that do not match are statted again
   * with the rest.
   */
  decide(i: number): boolean {
    const { g, t, o } = this.c;
    if (o.forced[i] || g.deps[i].length > 0) return false;
    const entry = this.#index?.get(g.ids[i]);
    const files = g.tasks[i].files;
    // A bit per input (below): a task with more than 31 inputs takes the ordinary path.
    if (!entry || entry.digests.length !== files.length || files.length > 31) return false;
    const stats = new Array<FileStat | undefined>(files.length);
    let matching = 0; // bit f: input f is as the entry saw it
    try {
      for (let f = 0; f < files.length; f++) {
        stats[f] = statFile(files[f].path);
        const seen = entry.stats[f];
        if (seen !== null && sameStat(stats[f], seen)) matching |= 1 << f;
      }
    } catch {
      return false;
    }
    this.c.stats.filesStatted += files.length;
    if (matching === 0 && files.length > 0) return false;
    const all = matching === 2 ** files.length - 1;
    if (!all || !(Date.now() - entry.usedAt < TOUCH_INTERVAL_MS) || computeKey(g.tasks[i], t.fileNames(i), entry.digests, [], []) !== entry.key) {
      for (let f = 0; f < files.length; f++) {
        if (matching & (1 << f)) this.vouched.push([this.c.files.id(files[f].path), stats[f], entry.digests[f]]);
      }
      return false;
    }
    t.fast[i] = 1;
    t.digest[i] = entry.out;
    return true;
  }

  /**
   * True when a task's inputs are carried by the index once it finishes (a task without dependencies, in
   * a store that keeps an index, that published no files last time): their stat memos would restate the
   * index entry, so they are not written (a cold build writes 3,400 memo rows fewer). Should the index be
   * lost, the next run hashes those inputs again.
   */
  covers(i: number): boolean {
    if (this.c.o.store.putIndex === undefined || this.c.g.deps[i].length > 0) return false;
    const published = this.c.t.record[i]?.output.files;
    if (published) for (const _ in published) return false;
    return true;
  }

  /**
   * Brings the index up to date with this run (entries of tasks that ran, were re-hashed or failed; ids
   * no longer in the graph dropped) and stores it if anything changed or records were deleted.
   */
  async write(order: readonly number[]): Promise<void> {
    const store = this.c.o.store;
    const index = this.#index;
    if (!store.putIndex || !index) return;
    const { g, t } = this.c;
    for (const id of index.ids()) if (g.indexOf(id) === undefined) index.set(id, null);
    const nowMs = Date.now();
    for (const i of order) {
      if (t.fast[i] || g.deps[i].length > 0) continue;
      const id = g.ids[i];
      const entry = this.#entry(i, nowMs);
      const old = index.get(id);
      if (entry === undefined ? old !== undefined : old === undefined || !sameEntry(old, entry)) index.set(id, entry ?? null);
    }
    for (const [name, text] of index.writes(this.dropped)) await store.putIndex(name, text);
  }

  /**
   * The index entry a finished task earns, or undefined (not finished well, publishes files, an input of
   * unknown state). An input inside the racy window is entered as unknown (see `partition-index.ts`).
   */
  #entry(i: number, nowMs: number): IndexEntry | undefined {
    const { t, files: table } = this.c;
    const status = t.status[i];
    const record = t.record[i];
    if ((status !== 'cached' && status !== 'executed') || !record) return undefined;
    for (const _ in record.output.files) return undefined;
    const files = this.c.g.tasks[i].files;
    const taskPaths = t.taskPaths[i];
    if (!taskPaths) return undefined; // never numbered: decided by the index and not run (no entry to add)
    const stats = new Array<IndexedStat>(files.length);
    const digests = new Array<Digest | 'absent'>(files.length);
    for (let f = 0; f < files.length; f++) {
      const p = taskPaths[f];
      const stat = table.stat[p];
      if (stat === null) return undefined;
      if (stat === undefined) {
        stats[f] = undefined;
        digests[f] = 'absent';
        continue;
      }
      const digest = table.digest[p];
      if (digest === undefined || record.files[files[f].name]?.digest !== digest) return undefined;
      stats[f] = isMemoizable(stat, nowMs) ? stat : null;
      digests[f] = digest;
    }
    return { key: record.key, out: record.output.digest, usedAt: record.usedAt, stats, digests };
  }
}

function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  if (a.key !== b.key || a.out !== b.out || a.usedAt !== b.usedAt || a.digests.length !== b.digests.length) return false;
  for (let f = 0; f < a.digests.length; f++) {
    const [x, y] = [a.stats[f], b.stats[f]];
    if (a.digests[f] !== b.digests[f] || (x === null || y === null ? x !== y : !sameStat(x, y))) return false;
  }
  return true;
}
