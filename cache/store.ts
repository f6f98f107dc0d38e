/**
 * The cache store contract: what the engine needs from persistent storage, and nothing more.
 *
 * Every method is batched (one call for many ids) because the engine's no-op path must cost one lookup
 * for all records, one for the stat memo and one existence check for all blobs, never one per task.
 *
 * Crash safety is the caller's protocol plus one promise from the store: `putResults` writes all blobs of
 * a batch before any record of it. A record is the commit marker of its task; a record whose blobs are
 * missing is an orphan and counts as a miss. Blobs are content-addressed and verified on read.
 *
 * This interface does not know what a task is: it stores records, blobs and stat memos.
 */
import type { Digest } from './digest.js';
import type { TaskRecord } from './record.js';

/** What the stat fast path remembers of one file: its identity at the time it was hashed, and the digest. */
export interface StatMemo {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  digest: Digest;
}

/** A blob to store, addressed by the SHA-256 of its bytes. */
export interface BlobWrite {
  digest: Digest;
  bytes: Uint8Array;
}

/** Bookkeeping kept per blob so GC can size and age blobs without reading them. */
export interface BlobInfo {
  digest: Digest;
  size: number;
  /** Epoch ms the blob was stored. */
  storedAt: number;
}

/** One batch of finished tasks to commit: blobs are written first, records last. */
export interface ResultBatch {
  blobs: BlobWrite[];
  records: TaskRecord[];
}

/** Result of reading blobs: each blob's bytes were checked against its digest. */
export interface BlobReadResult {
  /** Verified blobs. */
  found: Map<Digest, Buffer>;
  /** Digests with no stored blob. */
  missing: Digest[];
  /** Digests whose stored bytes did not hash to the digest; already deleted from the store. */
  corrupt: Digest[];
}

export interface StoreInfo {
  records: number;
  blobs: number;
  /** Sum of blob sizes. */
  bytes: number;
}

export interface CacheStore {
  /** Records by task id, `undefined` where none is stored. */
  getRecords(ids: readonly string[]): Promise<(TaskRecord | undefined)[]>;
  /** Commit a batch: every blob, then every record (each group written as one batch). */
  putResults(batch: ResultBatch): Promise<void>;
  /**
   * A hint that these bytes will be blobs of a `putResults` soon: a store that encodes blobs before it
   * writes them (deflates them, say) may start on them now, off the caller's thread. Writes nothing; bytes
   * never put cost nothing but the work started. Optional.
   */
  prepareBlobs?(bytes: readonly Uint8Array[]): void;
  /** Rewrite records without new blobs (last-use times). */
  putRecords(records: readonly TaskRecord[]): Promise<void>;
  /** Remove records (the invalidation before a task runs, GC, orphans). */
  deleteRecords(ids: readonly string[]): Promise<void>;
  /** Every stored record, for GC and `clean`. */
  listRecords(): Promise<TaskRecord[]>;

  /** Whether each blob exists, without reading it. */
  hasBlobs(digests: readonly Digest[]): Promise<boolean[]>;
  /** Read and verify blobs; corrupt ones are deleted and reported. */
  getBlobs(digests: readonly Digest[]): Promise<BlobReadResult>;
  deleteBlobs(digests: readonly Digest[]): Promise<void>;
  /** Size and store time of every blob. */
  listBlobs(): Promise<BlobInfo[]>;

  getStatMemos(paths: readonly string[]): Promise<(StatMemo | undefined)[]>;
  putStatMemos(entries: ReadonlyArray<readonly [string, StatMemo]>): Promise<void>;
  deleteStatMemos(paths: readonly string[]): Promise<void>;
  /** Every path with a stat memo. */
  listStatMemoPaths(): Promise<string[]>;

  /**
   * The partition index: one text value per name that the engine keeps as a fast path for tasks without
   * dependencies (`pipeline/partition-index.ts`). It only restates what records, blobs and stat memos say,
   * so a store must drop it (every name) whenever records or blobs are deleted or the store is cleared;
   * the engine then falls back to the records and writes it again. Optional: a store without it simply
   * has no fast path.
   */
  getIndex?(name: string): Promise<string | undefined>;
  putIndex?(name: string, text: string): Promise<void>;

  info(): Promise<StoreInfo>;
  /** Remove everything. */
  clear(): Promise<void>;
  /** Give freed space back to the file system, where the backend can (called after GC). */
  compact(): Promise<void>;
  close(): Promise<void>;
}
