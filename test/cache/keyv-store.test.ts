/**
 * The cache store over keyv, on the default SQLite backend and on keyv's in-memory Map.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { openDefaultStore } from '../../cache/default-store.js';
import { sha256 } from '../../cache/digest.js';
import { FileKeyvAdapter } from '../../cache/file-keyv-adapter.js';
import { StoreWriteError } from '../../cache/errors.js';
import { decodeStatMemo, DEFLATE_FROM_BYTES, encodeStatMemo, KeyvCacheStore } from '../../cache/keyv-store.js';
import { RECORD_SCHEMA, type TaskRecord } from '../../cache/record.js';
import type { CacheStore } from '../../cache/store.js';
import { mapStore } from '../helpers/map-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdpipe-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const stores: Record<string, () => CacheStore> = {
  sqlite: () => openDefaultStore(join(dir, 'cache')),
  'file-per-key keyv': () =>
    new KeyvCacheStore({
      description: 'files',
      keyv: (namespace) => new Keyv({ store: new FileKeyvAdapter(join(dir, 'files', namespace)), namespace }),
    }),
  'keyv Map': () => mapStore('map').store,
};

function blob(text: string) {
  const bytes = Buffer.from(text);
  return { digest: sha256(bytes), bytes };
}

function record(id: string, digest: string, files: Record<string, string> = {}): TaskRecord {
  return {
    schema: RECORD_SCHEMA,
    toolVersion: 't',
    id,
    kind: id.split(':')[0],
    codeVersion: '1',
    params: { nested: { list: [1, 'two', null] } },
    files: { 'a.txt': { path: '/x/a.txt', digest: 'absent' } },
    deps: {},
    key: 'k'.repeat(64),
    output: { digest, size: 3, files },
    notes: ['a note'],
    durationMs: 1,
    finishedAt: new Date(0).toISOString(),
    usedAt: 5,
  };
}

describe.each(Object.entries(stores))('%s store', (_name, open) => {
  it('commits blobs and records, reads them back verified, and lists them', async () => {
    const store = open();
    const value = blob('value');
    const file = blob('file,content\n');
    await store.putResults({ blobs: [value, file, value], records: [record('a:x', value.digest, { 'x.csv': file.digest })] });
    expect(await store.getRecords(['a:x', 'b:y'])).toEqual([record('a:x', value.digest, { 'x.csv': file.digest }), undefined]);
    expect(await store.hasBlobs([value.digest, sha256('nothing')])).toEqual([true, false]);
    const read = await store.getBlobs([value.digest, file.digest, sha256('nothing')]);
    expect(read.found.get(file.digest)!.toString()).toBe('file,content\n');
    expect(read.missing).toEqual([sha256('nothing')]);
    expect((await store.listRecords()).map((r) => r.id)).toEqual(['a:x']);
    expect((await store.listBlobs()).map((b) => [b.digest, b.size]).sort()).toEqual(
      [[value.digest, 5], [file.digest, 13]].sort(),
    );
    expect(await store.info()).toEqual({ records: 1, blobs: 2, bytes: 18 });
    await store.deleteRecords(['a:x']);
    expect(await store.getRecords(['a:x'])).toEqual([undefined]);
    await store.close();
  });

  it('keeps stat memos, every bit of their times (fractional milliseconds) and large inodes', async () => {
    const store = open();
    const memo = { size: 10, mtimeMs: 1_700_000_000_123.4568, ctimeMs: 1_700_000_000_223.4567 + 2 ** -12, ino: 2 ** 40 + 1, digest: sha256('m') };
    await store.putStatMemos([['/a/b c,d.txt', memo]]);
    expect(await store.getStatMemos(['/a/b c,d.txt', '/none'])).toEqual([memo, undefined]);
    expect(await store.listStatMemoPaths()).toEqual(['/a/b c,d.txt']);
    await store.deleteStatMemos(['/a/b c,d.txt']);
    expect(await store.getStatMemos(['/a/b c,d.txt'])).toEqual([undefined]);
    await store.clear();
    expect(await store.info()).toEqual({ records: 0, blobs: 0, bytes: 0 });
    await store.close();
  });

  it('reads a memo of the first layout (times in ns) or a damaged one as no memo: the file is hashed again', () => {
    const digest = sha256('m');
    expect(decodeStatMemo(encodeStatMemo({ size: 10, mtimeMs: 1.5, ctimeMs: 2.5, ino: 3, digest }))).toEqual({ size: 10, mtimeMs: 1.5, ctimeMs: 2.5, ino: 3, digest });
    expect(decodeStatMemo(`10,1700000000123456789,1700000000223456789,1099511627776,${digest}`)).toBeUndefined();
    expect(decodeStatMemo(`2,10,x,2.5,3,${digest}`)).toBeUndefined();
    expect(decodeStatMemo(`2,10,1.5,2.5,${digest}`)).toBeUndefined();
  });
});

it('a blob whose stored bytes no longer match its digest is reported corrupt and deleted', async () => {
  const { store, maps } = mapStore('map');
  const good = blob('good bytes');
  await store.putResults({ blobs: [good], records: [] });
  const blobs = maps.get('blobs')!;
  const [key, stored] = [...blobs.entries()][0] as [string, string];
  blobs.set(key, (stored as string).replace(Buffer.from('good bytes').toString('base64'), Buffer.from('evil bytes').toString('base64')));
  const read = await store.getBlobs([good.digest]);
  expect(read.corrupt).toEqual([good.digest]);
  expect(read.found.size).toBe(0);
  expect(await store.hasBlobs([good.digest])).toEqual([false]);
  expect(await store.listBlobs()).toEqual([]);
});

it('a large blob is stored deflated, reads back as its bytes, and damage to it is reported corrupt', async () => {
  const { store, maps } = mapStore('map');
  // A dictionary-like text, well past the deflate threshold, and a small blob that stays plain base64.
  const text = Array.from({ length: 4000 }, (_, k) => `"w_${k}": {"test_acc": ${(k * 0.37) % 100}, "label": null}`).join(',\n');
  const big = blob(text);
  const small = blob('small');
  expect(big.bytes.byteLength).toBeGreaterThanOrEqual(DEFLATE_FROM_BYTES);
  await store.putResults({ blobs: [big, small], records: [] });
  // keyv keeps each value serialised, as a JSON envelope {value, ...}.
  const envelopeOf = (digest: string): { value: string } => JSON.parse(maps.get('blobs')!.get(`blobs:${digest}`) as string);
  const stored = (digest: string): string => envelopeOf(digest).value;
  expect(stored(big.digest).startsWith('deflate:')).toBe(true);
  expect(stored(big.digest).length).toBeLessThan(big.bytes.byteLength / 3);
  expect(stored(small.digest)).toBe(Buffer.from('small').toString('base64'));
  const read = await store.getBlobs([big.digest, small.digest]);
  expect(read.found.get(big.digest)!.equals(big.bytes)).toBe(true);
  expect(read.found.get(small.digest)!.toString()).toBe('small');
  expect((await store.listBlobs()).find((b) => b.digest === big.digest)!.size).toBe(big.bytes.byteLength);

  // Damage: a flipped character in the deflated text (inflates to other bytes, or not at all).
  const envelope = envelopeOf(big.digest);
  const chars = [...envelope.value];
  const at = 'deflate:'.length + 40;
  chars[at] = chars[at] === 'A' ? 'B' : 'A';
  maps.get('blobs')!.set(`blobs:${big.digest}`, JSON.stringify({ ...envelope, value: chars.join('') }));
  const damaged = await store.getBlobs([big.digest]);
  expect(damaged.corrupt).toEqual([big.digest]);
  expect(await store.hasBlobs([big.digest])).toEqual([false]);
});

it('a keyv that cannot iterate makes listing fail with a message naming the store', async () => {
  const adapter = { opts: {}, get: async () => undefined, set: async () => true, delete: async () => true, clear: async () => {}, on: () => adapter };
  const store = new KeyvCacheStore({ description: 'custom-kv', keyv: (namespace) => new Keyv({ store: adapter, namespace }) });
  await expect(store.listRecords()).rejects.toThrow(/listing task records needs a cache store that can list its keys, and custom-kv cannot/);
});

it("a keyv error event fails the write it happened in, not another write running at the same time", async () => {
  // keyv reports a failed write as an `error` event. The records' write emits one and then waits; a write
  // of another namespace starts and ends meanwhile. Each must get its own outcome: when the store kept
  // one error slot for all, the second write took the error and cleared it, and the failed one succeeded.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let failed!: () => void;
  const emitted = new Promise<void>((resolve) => (failed = resolve));
  const keyvs = new Map<string, Keyv>();
  class FailingMap extends Map<string, unknown> {
    override set(key: string, value: unknown): this {
      super.set(key, value);
      keyvs.get('records')!.emit('error', new Error('disk full'));
      failed();
      return held.then(() => this) as unknown as this;
    }
  }
  const store = new KeyvCacheStore({
    description: 'flaky (test)',
    keyv: (namespace) => {
      const keyv = new Keyv({ store: namespace === 'records' ? new FailingMap() : new Map(), namespace });
      keyvs.set(namespace, keyv);
      return keyv;
    },
  });
  const failing = store.putRecords([record('a', sha256('a'))]);
  failing.catch(() => {});
  await emitted; // the records' write has emitted its error and waits
  await expect(store.deleteBlobs([sha256('another blob')])).resolves.toBeUndefined();
  release();
  await expect(failing).rejects.toThrow(StoreWriteError);
  await expect(failing).rejects.toThrow(/could not write task records to the cache store \(flaky \(test\)\): disk full/);
  // An error emitted outside any write (a lost connection, say) fails nothing later and is not thrown.
  keyvs.get('blobs')!.emit('error', new Error('connection reset'));
  await expect(store.deleteBlobs([sha256('yet another')])).resolves.toBeUndefined();
});

it('blobs prepared ahead (prepareBlobs) are stored as putResults alone stores them; preparing writes nothing', async () => {
  const text = Array.from({ length: 40_000 }, (_, i) => `row ${i},${(i * 0.37).toFixed(3)}\n`).join('');
  const big = blob(text);
  expect(big.bytes.byteLength).toBeGreaterThanOrEqual(DEFLATE_FROM_BYTES);
  const plain = mapStore('plain');
  await plain.store.putResults({ blobs: [big], records: [] });
  const ahead = mapStore('ahead');
  ahead.store.prepareBlobs([big.bytes, blob('never put, and large '.repeat(20_000)).bytes]);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the deflate runs on the thread pool meanwhile
  expect([...ahead.maps.values()].every((m) => m.size === 0)).toBe(true);
  await ahead.store.putResults({ blobs: [big], records: [] });
  expect(ahead.maps.get('blobs')!.get(`blobs:${big.digest}`)).toBe(plain.maps.get('blobs')!.get(`blobs:${big.digest}`));
  expect((await ahead.store.getBlobs([big.digest])).found.get(big.digest)!.equals(big.bytes)).toBe(true);
});
