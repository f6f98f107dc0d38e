/**
 * Group commit: results are written in batches (one store call per batch, not per task), blobs with or
 * before their records, and a failed write surfaces instead of being lost.
 */
import { Keyv } from 'keyv';
import { KeyvCacheStore } from '../../cache/keyv-store.js';
import type { TaskRecord } from '../../cache/record.js';
import type { CacheStore, ResultBatch } from '../../cache/store.js';
import { GroupCommitter } from '../../pipeline/committer.js';

function countingStore(): { store: CacheStore; batches: ResultBatch[] } {
  const store = new KeyvCacheStore({ description: 'map', keyv: (namespace) => new Keyv({ store: new Map(), namespace }) });
  const batches: ResultBatch[] = [];
  const original = store.putResults.bind(store);
  store.putResults = async (batch) => {
    batches.push(batch);
    return original(batch);
  };
  return { store, batches };
}

const record = (id: string, digest: string): TaskRecord =>
  ({ id, key: 'k', output: { digest, size: 1, files: {} }, files: {}, deps: {} }) as unknown as TaskRecord;

it('flushes every maxEntries results as one batch, and the rest at the end', async () => {
  const { store, batches } = countingStore();
  const committed: string[][] = [];
  const committer = new GroupCommitter(store, { maxEntries: 100, maxDelayMs: 10_000, onCommitted: (ids) => committed.push(ids) });
  for (let k = 0; k < 250; k++) committer.addResult(record(`t:${k}`, 'd'.repeat(63) + (k % 10)), [{ digest: 'd'.repeat(63) + (k % 10), bytes: Buffer.from([k % 10]) }]);
  await committer.flush();
  expect(batches.map((b) => b.records.length)).toEqual([100, 100, 50]);
  expect(batches.reduce((n, b) => n + b.blobs.length, 0)).toBe(30); // blobs deduplicated within a batch
  expect(committed.flat()).toHaveLength(250);
  expect((await store.getRecords(['t:0', 't:249'])).every(Boolean)).toBe(true);
});

it('flushes after maxDelayMs without an explicit flush', async () => {
  const { store, batches } = countingStore();
  const committer = new GroupCommitter(store, { maxEntries: 100, maxDelayMs: 5 });
  committer.addResult(record('t:1', 'a'.repeat(64)), []);
  await new Promise((r) => setTimeout(r, 50));
  expect(batches).toHaveLength(1);
});

it('a failed write is kept and reported by the next flush', async () => {
  const { store } = countingStore();
  store.putResults = async () => {
    throw new Error('disk full');
  };
  const committer = new GroupCommitter(store, { maxEntries: 1 });
  committer.addResult(record('t:1', 'a'.repeat(64)), []);
  await expect(committer.flush()).rejects.toThrow('disk full');
  expect(committer.error).toBeInstanceOf(Error);
});
