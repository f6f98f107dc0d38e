/**
 * Cache garbage collection with a keep set (DVC's `gc -w` idea) and size/age limits by last use.
 *
 * 1. Records of tasks the current graph no longer has are dropped, as are records unused for `maxAgeMs`.
 * 2. While the blobs the remaining records need exceed `maxBytes`, the least recently used record is
 *    dropped (a blob shared by several records is counted once and freed with the last of them).
 * 3. Records are deleted before blobs (a record must never outlive its blobs); then every blob no kept
 *    record names, and every stat memo for a path the graph no longer reads or writes.
 * 4. The backend is compacted.
 *
 * It knows nothing of tasks beyond ids and the blobs a record names.
 */
import type { Digest } from './digest.js';
import { blobsOfRecord, type TaskRecord } from './record.js';
import type { CacheStore } from './store.js';

export interface GcOptions {
  /** Keep at most this many bytes of blobs. */
  maxBytes?: number;
  /** Drop records not used for this long. */
  maxAgeMs?: number;
  /** Report without deleting. */
  dryRun?: boolean;
  /** The clock (tests). */
  now?: number;
}

export interface GcReport {
  recordsKept: number;
  recordsDeleted: number;
  blobsKept: number;
  blobsDeleted: number;
  bytesKept: number;
  bytesFreed: number;
  memosDeleted: number;
}

export interface KeepSet {
  /** Task ids of the current graph. */
  ids: ReadonlySet<string>;
  /** File paths whose stat memos are still useful (inputs and published outputs). */
  paths: ReadonlySet<string>;
}

/** Collects garbage in `store`, keeping what `keep` references; see the file header. */
export async function collectGarbage(store: CacheStore, keep: KeepSet, options: GcOptions = {}): Promise<GcReport> {
  const now = options.now ?? Date.now();
  const records = await store.listRecords();
  const blobs = await store.listBlobs();
  const size = new Map<Digest, number>(blobs.map((b) => [b.digest, b.size]));

  const dropped: TaskRecord[] = [];
  let kept: TaskRecord[] = [];
  for (const record of records) {
    const old = options.maxAgeMs !== undefined && now - (record.usedAt ?? 0) > options.maxAgeMs;
    (keep.ids.has(record.id) && !old ? kept : dropped).push(record);
  }

  const references = new Map<Digest, number>();
  let bytes = 0;
  for (const record of kept) {
    for (const digest of new Set(blobsOfRecord(record))) {
      const count = references.get(digest) ?? 0;
      if (count === 0) bytes += size.get(digest) ?? 0;
      references.set(digest, count + 1);
    }
  }
  if (options.maxBytes !== undefined && bytes > options.maxBytes) {
    kept.sort((a, b) => (a.usedAt ?? 0) - (b.usedAt ?? 0));
    let evict = 0;
    while (bytes > options.maxBytes && evict < kept.length) {
      const record = kept[evict++];
      dropped.push(record);
      for (const digest of new Set(blobsOfRecord(record))) {
        const count = references.get(digest)! - 1;
        if (count === 0) {
          references.delete(digest);
          bytes -= size.get(digest) ?? 0;
        } else references.set(digest, count);
      }
    }
    kept = kept.slice(evict);
  }

  const unreferenced = blobs.filter((b) => !references.has(b.digest));
  const memoPaths = await store.listStatMemoPaths();
  const staleMemos = memoPaths.filter((path) => !keep.paths.has(path));
  if (!options.dryRun) {
    await store.deleteRecords(dropped.map((r) => r.id));
    await store.deleteBlobs(unreferenced.map((b) => b.digest));
    await store.deleteStatMemos(staleMemos);
    await store.compact();
  }
  return {
    recordsKept: kept.length,
    recordsDeleted: dropped.length,
    blobsKept: blobs.length - unreferenced.length,
    blobsDeleted: unreferenced.length,
    bytesKept: bytes,
    bytesFreed: unreferenced.reduce((sum, b) => sum + b.size, 0),
    memosDeleted: staleMemos.length,
  };
}
