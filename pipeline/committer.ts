/**
 * Group commit: finished tasks are committed to the store in batches, each batch one `putResults` (blobs,
 * then records), so a cold build of thousands of small tasks costs a few dozen transactions, not thousands.
 *
 * A batch is flushed when it holds `maxEntries` results or `maxBytes` of blobs, or `maxDelayMs` after its
 * first result, and at the end of the run. Flushes run one at a time, in order. A process killed between
 * flushes loses only the unflushed results: those tasks have no record and simply run again.
 */
import type { Digest } from '../cache/digest.js';
import type { TaskRecord } from '../cache/record.js';
import type { BlobWrite, CacheStore, StatMemo } from '../cache/store.js';

export interface CommitterOptions {
  maxEntries?: number;
  maxBytes?: number;
  maxDelayMs?: number;
  /** Called after each flush with the ids whose records are now durable. */
  onCommitted?: (ids: string[]) => void;
}

export class GroupCommitter {
  readonly #store: CacheStore;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxDelayMs: number;
  readonly #onCommitted?: (ids: string[]) => void;
  #records: TaskRecord[] = [];
  #blobs: BlobWrite[] = [];
  #blobDigests = new Set<Digest>();
  #bytes = 0;
  #touched: TaskRecord[] = [];
  #memos = new Map<string, StatMemo>();
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();
  #error: unknown;

  constructor(store: CacheStore, options: CommitterOptions = {}) {
    this.#store = store;
    this.#maxEntries = options.maxEntries ?? 256;
    this.#maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.#maxDelayMs = options.maxDelayMs ?? 25;
    this.#onCommitted = options.onCommitted;
  }

  /** The first flush error, if any: the run should stop and report it. */
  get error(): unknown {
    return this.#error;
  }

  /** Queues a finished task: its record and the blobs it names (blobs known to exist may be left out). */
  addResult(record: TaskRecord, blobs: readonly BlobWrite[]): void {
    this.#records.push(record);
    for (const blob of blobs) {
      if (this.#blobDigests.has(blob.digest)) continue;
      this.#blobDigests.add(blob.digest);
      this.#blobs.push(blob);
      this.#bytes += blob.bytes.byteLength;
    }
    this.#schedule();
  }

  /** Queues a record rewrite without blobs (last-use time). */
  touch(record: TaskRecord): void {
    this.#touched.push(record);
    this.#schedule();
  }

  /** Queues stat memos (the latest per path wins). */
  addMemos(entries: Iterable<readonly [string, StatMemo]>): void {
    for (const [path, memo] of entries) this.#memos.set(path, memo);
    this.#schedule();
  }

  #schedule(): void {
    // Background flushes keep their error in #error (reported by `error` and the next flush), so their
    // promises are not left to reject unhandled.
    const background = (): void => void this.flush().catch(() => {});
    if (this.#records.length >= this.#maxEntries || this.#bytes >= this.#maxBytes) {
      background();
      return;
    }
    this.#timer ??= setTimeout(background, this.#maxDelayMs);
  }

  /** Commits everything queued so far; resolves when it is durable (rejects with the first error). */
  flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const records = this.#records;
    const blobs = this.#blobs;
    const touched = this.#touched;
    const memos = [...this.#memos];
    this.#records = [];
    this.#blobs = [];
    this.#blobDigests = new Set();
    this.#bytes = 0;
    this.#touched = [];
    this.#memos.clear();
    this.#chain = this.#chain.then(async () => {
      if (this.#error !== undefined) return;
      try {
        if (records.length > 0 || blobs.length > 0) await this.#store.putResults({ blobs, records });
        if (touched.length > 0) await this.#store.putRecords(touched);
        if (memos.length > 0) await this.#store.putStatMemos(memos);
        if (records.length > 0) this.#onCommitted?.(records.map((r) => r.id));
      } catch (error) {
        this.#error = error;
      }
    });
    return this.#chain.then(() => {
      if (this.#error !== undefined) throw this.#error;
    });
  }
}
