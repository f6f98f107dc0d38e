/**
 * GC policy over a store: keep set, age, size (least recently used first, shared blobs counted once).
 */
import { sha256 } from '../../cache/digest.js';
import { collectGarbage } from '../../cache/gc.js';
import type { KeyvCacheStore } from '../../cache/keyv-store.js';
import { RECORD_SCHEMA, type TaskRecord } from '../../cache/record.js';
import { mapStore } from '../helpers/map-store.js';

function memoryStore(): KeyvCacheStore {
  return mapStore('map').store;
}

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
function record(id: string, digests: string[], usedAt: number): TaskRecord {
  return {
    schema: RECORD_SCHEMA, toolVersion: 't', id, kind: 'k', codeVersion: '1', params: null, files: {}, deps: {}, key: 'k',
    output: { digest: digests[0], size: 0, files: Object.fromEntries(digests.slice(1).map((d, i) => [`f${i}`, d])) },
    notes: [], durationMs: 0, finishedAt: '', usedAt,
  };
}

async function seed() {
  const store = memoryStore();
  const a = bytes(100, 1), b = bytes(200, 2), shared = bytes(1000, 3), orphan = bytes(50, 4);
  const [da, db, ds, dorphan] = [a, b, shared, orphan].map((x) => sha256(x));
  await store.putResults({
    blobs: [a, b, shared, orphan].map((x) => ({ digest: sha256(x), bytes: x })),
    records: [record('k:a', [da, ds], 1000), record('k:b', [db, ds], 3000), record('k:gone', [dorphan], 5000)],
  });
  await store.putStatMemos([['/in/a', { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, digest: da }], ['/in/old', { size: 1, mtimeMs: 1, ctimeMs: 1, ino: 1, digest: da }]]);
  return { store, da, db, ds, dorphan };
}

it('drops records outside the keep set, then unreferenced blobs and memos', async () => {
  const { store, dorphan } = await seed();
  const report = await collectGarbage(store, { ids: new Set(['k:a', 'k:b']), paths: new Set(['/in/a']) }, { now: 10_000 });
  expect(report).toEqual({ recordsKept: 2, recordsDeleted: 1, blobsKept: 3, blobsDeleted: 1, bytesKept: 1300, bytesFreed: 50, memosDeleted: 1 });
  expect(await store.hasBlobs([dorphan])).toEqual([false]);
  expect(await store.listStatMemoPaths()).toEqual(['/in/a']);
});

it('evicts least recently used records until the blobs fit, freeing a shared blob with its last user', async () => {
  const { store, da, db, ds } = await seed();
  const keep = { ids: new Set(['k:a', 'k:b', 'k:gone']), paths: new Set<string>() };
  const dry = await collectGarbage(store, keep, { maxBytes: 1250, dryRun: true });
  expect(dry).toMatchObject({ recordsDeleted: 1, bytesKept: 1250 }); // k:a (oldest) goes; shared stays for k:b
  expect((await store.listRecords()).length).toBe(3);
  const report = await collectGarbage(store, keep, { maxBytes: 1250 });
  expect(report.bytesFreed).toBe(100);
  expect(await store.hasBlobs([da, ds, db])).toEqual([false, true, true]);
  const tight = await collectGarbage(store, keep, { maxBytes: 10 });
  expect(tight.recordsKept).toBe(0);
  expect(await store.info()).toEqual({ records: 0, blobs: 0, bytes: 0 });
});

it('drops records unused for longer than maxAgeMs', async () => {
  const { store } = await seed();
  const report = await collectGarbage(store, { ids: new Set(['k:a', 'k:b', 'k:gone']), paths: new Set() }, { maxAgeMs: 4000, now: 6000 });
  expect(report.recordsDeleted).toBe(1);
  expect((await store.listRecords()).map((r) => r.id).sort()).toEqual(['k:b', 'k:gone']);
});
