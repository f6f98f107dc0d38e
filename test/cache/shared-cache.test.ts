/**
 * The shared cache tier, in process, against a real redis-server (test/helpers/redis-server.ts): the URL
 * and its redaction, the verification of fetched entries, a server killed mid-run, a server that never
 * answers (the time bound), and read-only.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import { createClient } from '@keyv/redis';
import { openSharedStore } from '../../cache/shared/open.js';
import { SHARED_KEY_PREFIX } from '../../cache/shared/redis-tier.js';
import { parseRedisUrl, redact } from '../../cache/shared/redis-url.js';
import { checkSharedEntry, SHARED_BLOB_CAP } from '../../cache/shared/verify.js';
import { openDefaultStore } from '../../cache/default-store.js';
import { sha256 } from '../../cache/digest.js';
import { EngineRig } from '../helpers/engine-rig.js';
import { mapStore } from '../helpers/map-store.js';
import { describeWithRedis, freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';

describe('shared cache URL', () => {
  test('host, port, db and a display form without the password', () => {
    const url = parseRedisUrl('redis://:s3cr%40t@cache.example:6380/2', '--shared-cache');
    expect(url).toMatchObject({ host: 'cache.example', port: 6380, db: 2, tls: false, password: 's3cr@t', hostPort: 'cache.example:6380' });
    expect(url.display).toBe('redis://cache.example:6380/2');
    expect(redact(`failed ${url.connect} with s3cr@t and s3cr%40t`, url)).toBe('failed redis://cache.example:6380/2 with *** and ***');
    expect(parseRedisUrl('rediss://h', 'x')).toMatchObject({ port: 6379, db: 0, tls: true });
  });

  test('a malformed URL names the setting, never the URL', () => {
    expect(() => parseRedisUrl('http://:pw@h:1', 'MDPIPE_SHARED_CACHE')).toThrow(/MDPIPE_SHARED_CACHE: the scheme is "http:"/);
    expect(() => parseRedisUrl('redis://:pw@h:1/x', 'sharedCache')).toThrow(/database number/);
    try {
      parseRedisUrl('redis://:topsecret@h:1/nope', 'x');
    } catch (error) {
      expect((error as Error).message).not.toContain('topsecret');
    }
  });
});

describe('checkSharedEntry', () => {
  const blob = Buffer.from('hello');
  const digest = sha256(blob);
  const stored = (value: unknown): string => JSON.stringify({ value });
  test('a blob must hash to its key', () => {
    expect(checkSharedEntry(`blobs:${digest}`, stored(blob.toString('base64')))).toBeUndefined();
    expect(checkSharedEntry(`blobs:${digest}`, stored(Buffer.from('poison').toString('base64')))).toMatch(/does not match its SHA-256/);
    expect(checkSharedEntry(`blobs:${digest}`, 'not json')).toMatch(/not valid JSON/);
  });
  test('a record must be one of this schema, for the id it is stored under', () => {
    const record = { schema: 1, id: 'parse:a/b', key: digest, output: { digest, files: { 'x.csv': digest } } };
    expect(checkSharedEntry('records:parse:a/b', stored(record))).toBeUndefined();
    expect(checkSharedEntry('records:parse:a/c', stored(record))).toMatch(/stored under parse:a\/c/);
    expect(checkSharedEntry('records:parse:a/b', stored({ ...record, schema: 0 }))).toMatch(/record schema 0/);
    expect(checkSharedEntry('records:parse:a/b', stored({ ...record, output: { digest, files: { 'x.csv': 'zz' } } }))).toMatch(/invalid digests/);
  });
});

/**
 * A deflate bomb as `KeyvCacheStore` would store it: `mib` MiB of zeros in ~1 kB per MiB, built without
 * holding the zeros (one sync-flushed, non-final block of 1 MiB repeated, then an empty final block).
 */
function deflateBomb(mib: number): string {
  const block = deflateRawSync(Buffer.alloc(2 ** 20), { finishFlush: zlib.Z_SYNC_FLUSH });
  const bytes = Buffer.concat([...Array.from({ length: mib }, () => block), deflateRawSync(Buffer.alloc(0))]);
  return `deflate:${bytes.toString('base64')}`;
}

describe('a shared blob is inflated no further than its size entry, or the cap', () => {
  const stored = (value: unknown): string => JSON.stringify({ value });
  const digest = sha256(Buffer.from('whatever the writer claims'));

  test('a bomb past the cap is refused as too large, not inflated in full', () => {
    const bomb = deflateBomb(SHARED_BLOB_CAP / 2 ** 20 + 1);
    expect(bomb.length).toBeLessThan(2 ** 20);
    expect(checkSharedEntry(`blobs:${digest}`, stored(bomb))).toBe(`it inflates past ${SHARED_BLOB_CAP} bytes (the cap on a shared blob)`);
  });

  test("past the size its size entry gives, it is refused; the store's own deflated blobs pass", async () => {
    expect(checkSharedEntry(`blobs:${digest}`, stored(deflateBomb(4)), { blobSize: 1000 })).toBe('it inflates past 1000 bytes (the size its size entry gives)');
    // The format as KeyvCacheStore writes it (deflated from 64 kB on): pins verify.ts's copy of the prefix.
    const { store, maps } = mapStore();
    const big = Buffer.from('0123456789abcdef'.repeat(10_000));
    await store.putResults({ blobs: [{ digest: sha256(big), bytes: big }], records: [] });
    const text = maps.get('blobs')!.get(`blobs:${sha256(big)}`) as string;
    expect(text).toContain('deflate:');
    expect(checkSharedEntry(`blobs:${sha256(big)}`, text, { blobSize: big.length })).toBeUndefined();
    expect(checkSharedEntry(`blobs:${sha256(big)}`, text, { blobSize: big.length - 1 })).toMatch(/inflates past 159999 bytes/);
  });
});

describeWithRedis('shared cache tier on a real redis-server', () => {
  let server: RedisServer;
  const rigs: EngineRig[] = [];
  const rig = (layout = { collections: { basic: 6, noisy: 4 } }): EngineRig => {
    const made = new EngineRig(layout);
    rigs.push(made);
    return made;
  };
  const outputs = (r: EngineRig): string[] => ['basic', 'noisy'].map((c) => readFileSync(join(r.outDir, c, 'table.csv'), 'utf8'));

  beforeEach(async () => {
    server = await startRedisServer();
  });
  afterEach(async () => {
    await server.stop();
    for (const r of rigs.splice(0)) await r.cleanup();
  });

  async function keys(): Promise<string[]> {
    const client = createClient({ url: server.url() });
    await client.connect();
    try {
      return (await client.keys('*')).sort();
    } finally {
      await client.close();
    }
  }

  test('a second project with an empty local cache builds nothing; entries are namespaced by record schema', async () => {
    const warnings: string[] = [];
    const a = rig();
    const sharedA = await openSharedStore(a.cacheDir, { url: server.url(), source: 'test', onWarning: (m) => warnings.push(m) });
    const first = await (await a.engine({}, { store: sharedA.store })).run();
    expect(first.summary.executed).toBe(first.summary.tasks.length);
    await sharedA.store.close();
    const stored = await keys();
    expect(stored.length).toBeGreaterThan(0);
    const namespaces = new Set(stored.map((k) => k.slice(0, k.indexOf(':', SHARED_KEY_PREFIX.length + 2))));
    // Records and blobs only: stat memos (this machine's inode numbers) and the partition index stay local.
    expect([...namespaces].sort()).toEqual([`${SHARED_KEY_PREFIX}::blobinfo`, `${SHARED_KEY_PREFIX}::blobs`, `${SHARED_KEY_PREFIX}::records`]);

    const b = rig();
    const sharedB = await openSharedStore(b.cacheDir, { url: server.url(), source: 'test', onWarning: (m) => warnings.push(m) });
    const second = await (await b.engine({}, { store: sharedB.store })).run();
    // What was copied from Redis is in b's local cache with its size entries: `cache info` and GC see it.
    const infoB = await sharedB.store.info();
    await sharedB.store.close();
    const localA = openDefaultStore(a.cacheDir);
    const infoA = await localA.info();
    await localA.close();
    expect(infoB).toEqual(infoA);
    expect(second.summary.executed).toBe(0);
    expect(b.counter.total()).toBe(0);
    expect(outputs(b)).toEqual(outputs(a));
    expect(warnings).toEqual([]);
  });

  // A writer to the team's Redis replaces basic's table.csv blob: with other bytes, or with a deflate bomb
  // (64 MiB of zeros in 64 kB; the blob's size entry, fetched with it, says a few hundred bytes).
  test.each([
    ['a poisoned blob', () => Buffer.from('poisoned,table\n').toString('base64'), () => 'its content does not match its SHA-256 digest'],
    ['a deflate bomb', () => deflateBomb(64), (size: number) => `it inflates past ${size} bytes (the size its size entry gives)`],
  ])('%s is refused with a warning naming its key, rebuilt here, and healed in Redis', async (_, bad, problem) => {
    const a = rig();
    const sharedA = await openSharedStore(a.cacheDir, { url: server.url(), source: 'test', onWarning: () => {} });
    await (await a.engine({}, { store: sharedA.store })).run();
    await sharedA.store.close();
    const table = readFileSync(join(a.outDir, 'basic', 'table.csv'));
    const key = `${SHARED_KEY_PREFIX}::blobs:${sha256(table)}`;
    const client = createClient({ url: server.url() });
    await client.connect();
    await client.set(key, JSON.stringify({ value: bad() }));

    const warnings: string[] = [];
    const b = rig();
    const sharedB = await openSharedStore(b.cacheDir, { url: server.url(), source: 'test', onWarning: (m) => warnings.push(m) });
    const result = await (await b.engine({}, { store: sharedB.store })).run();
    await sharedB.store.close();
    expect(result.summary.ok).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`blobs:${sha256(table)}`);
    expect(warnings[0]).toContain(`(${problem(table.length)})`);
    expect(result.summary.tasks.find((t) => t.id === 'export:basic')?.status).toBe('executed');
    expect(outputs(b)).toEqual(outputs(a));
    // The rebuilt (correct) blob was written through over the bad one.
    const healed = JSON.parse((await client.get(key))!).value as string;
    expect(sha256(Buffer.from(healed, 'base64'))).toBe(sha256(table));
    await client.close();
  });

  test('Redis killed mid-run: one warning naming host:port, the build completes locally with the same outputs', async () => {
    const local = rig({ collections: { basic: 12, noisy: 12 } });
    await (await local.engine()).run();

    const warnings: string[] = [];
    const r = rig({ collections: { basic: 12, noisy: 12 } });
    const shared = await openSharedStore(r.cacheDir, { url: server.url(), source: 'test', onWarning: (m) => warnings.push(m) });
    let calls = 0;
    const engine = await r.engine(
      { onRun: async (id) => void (id.startsWith('parse:') && ++calls === 6 && (await server.kill())) },
      { store: shared.store, commit: { maxEntries: 2 } },
    );
    const result = await engine.run();
    await shared.store.close();
    expect(result.summary.ok).toBe(true);
    expect(result.summary.failed).toBe(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`shared cache 127.0.0.1:${server.port} unavailable`);
    expect(warnings[0]).not.toContain(server.password);
    expect(outputs(r)).toEqual(outputs(local));
  });

  test('--shared-cache-readonly reads but writes nothing', async () => {
    const r = rig();
    const shared = await openSharedStore(r.cacheDir, { url: server.url(), source: 'test', readonly: true, onWarning: () => {} });
    const result = await (await r.engine({}, { store: shared.store })).run();
    await shared.store.close();
    expect(result.summary.executed).toBeGreaterThan(0);
    expect(await keys()).toEqual([]);
  });
});

describe('a server that accepts connections but never answers', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    port = await freePort();
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  test('costs one bounded wait and one warning, never a hung run', async () => {
    const warnings: string[] = [];
    const r = new EngineRig({ collections: { basic: 2 } });
    try {
      const started = Date.now();
      const shared = await openSharedStore(r.cacheDir, { url: `redis://:pw@127.0.0.1:${port}/0`, source: 'test', onWarning: (m) => warnings.push(m) });
      const result = await (await r.engine({}, { store: shared.store })).run();
      await shared.store.close();
      expect(result.summary.ok).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(warnings).toEqual([expect.stringContaining(`shared cache 127.0.0.1:${port} unavailable`)]);
    } finally {
      await r.cleanup();
    }
  });

  test('with required, it is an error naming host:port', async () => {
    await expect(openSharedStore('/tmp/unused-mdpipe-cache', { url: `redis://:pw@127.0.0.1:${port}/0`, source: 'test', required: true, onWarning: () => {} })).rejects.toThrow(
      `127.0.0.1:${port} failed`,
    );
  });
});
