/**
 * What the engine does when the store is damaged or swapped: corrupted blobs, orphan records, GC, clean,
 * and a keyv store other than SQLite (keyv's in-memory Map) plugged in without engine changes.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_STORE_FILE } from '../../cache/default-store.js';
import { StoreWriteError } from '../../cache/errors.js';
import type { TaskRecord } from '../../cache/record.js';
import type { EngineEvent } from '../../pipeline/events.js';
import { EngineRig, idsWith } from '../helpers/engine-rig.js';
import { mapStore } from '../helpers/map-store.js';

const ALL = 12;
let rig: EngineRig;
beforeEach(() => {
  rig = new EngineRig();
});
afterEach(async () => {
  await rig.cleanup();
});

/** Direct access to the SQLite file, as a disk error or a careless hand would change it. */
function withDatabase<T>(body: (db: Database.Database) => T): T {
  const db = new Database(join(rig.cacheDir, DEFAULT_STORE_FILE));
  try {
    return body(db);
  } finally {
    db.close();
  }
}

function storedRecord(id: string): TaskRecord {
  return withDatabase((db) => {
    const row = db.prepare('SELECT value FROM keyv WHERE key = ?').get(`records:${id}`) as { value: string };
    return JSON.parse(row.value).value as TaskRecord;
  });
}

/** Flips one base64 character of a stored blob: its bytes no longer hash to its digest. */
function corruptBlob(digest: string): void {
  withDatabase((db) => {
    const row = db.prepare('SELECT value FROM keyv WHERE key = ?').get(`blobs:${digest}`) as { value: string };
    const envelope = JSON.parse(row.value) as { value: string };
    const chars = [...envelope.value];
    chars[6] = chars[6] === 'A' ? 'B' : 'A';
    envelope.value = chars.join('');
    db.prepare('UPDATE keyv SET value = ? WHERE key = ?').run(JSON.stringify(envelope), `blobs:${digest}`);
  });
}

function deleteBlob(digest: string): void {
  withDatabase((db) => db.prepare('DELETE FROM keyv WHERE key = ?').run(`blobs:${digest}`));
}

describe('damaged cache entries', () => {
  it('a corrupted blob is detected when read, reported, and its task rebuilt', async () => {
    await (await rig.engine()).run();
    const digest = storedRecord('parse:basic/p1').output.digest;
    corruptBlob(digest);
    rig.counter.reset();
    const events: EngineEvent[] = [];
    const engine = await rig.engine({}, { onEvent: (e: EngineEvent) => events.push(e) });
    // grid:basic must read its upstream values: the corrupt one is caught there.
    const result = await engine.run({ targets: ['grid:basic'], force: true });
    expect(rig.counter.ids()).toEqual(['grid:basic', 'parse:basic/p1']);
    const parse = result.outcomes.find((o) => o.id === 'parse:basic/p1')!;
    expect(parse).toMatchObject({ status: 'executed', reason: 'stored output was corrupt; rebuilt' });
    expect(events.some((e) => e.type === 'warning' && e.message.includes('parse:basic/p1') && e.message.includes('corrupt'))).toBe(true);
    expect(result.summary.ok).toBe(true);

    // The rebuilt blob is sound: forcing grid again reads it without rebuilding anything.
    rig.counter.reset();
    await engine.run({ targets: ['grid:basic'], force: true });
    expect(rig.counter.ids()).toEqual(['grid:basic']);
  });

  it('a corrupted blob of a published file is rebuilt when the file must be restored', async () => {
    await (await rig.engine()).run();
    const record = storedRecord('export:noisy');
    corruptBlob(record.output.files['noisy/table.csv']);
    const published = join(rig.outDir, 'noisy/table.csv');
    const good = readFileSync(published);
    rmSync(published);
    rig.counter.reset();
    const result = await (await rig.engine()).run();
    expect(rig.counter.ids()).toEqual(['export:noisy']);
    expect(result.outcomes.find((o) => o.id === 'export:noisy')!.status).toBe('executed');
    expect(readFileSync(published).equals(good)).toBe(true);
  });

  it('an orphan record (its blob missing) is a miss: the task runs, downstream stays cached', async () => {
    await (await rig.engine()).run();
    deleteBlob(storedRecord('parse:noisy/p2').output.digest);
    rig.counter.reset();
    const result = await (await rig.engine()).run();
    expect(rig.counter.ids()).toEqual(['parse:noisy/p2']);
    expect(result.outcomes.find((o) => o.id === 'parse:noisy/p2')!.reason).toBe('stored output is missing from the cache');
    expect(idsWith(result.outcomes, 'cached')).toContain('grid:noisy');
  });

  it('a record in an unreadable layout is a miss, replaced by the run', async () => {
    await (await rig.engine()).run();
    withDatabase((db) => db.prepare('UPDATE keyv SET value = ? WHERE key = ?').run('{"value":{"id":"x"}}', 'records:grid:basic'));
    rig.counter.reset();
    await (await rig.engine()).run();
    expect(rig.counter.ids()).toEqual(['grid:basic']);
    expect(storedRecord('grid:basic').key).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('garbage collection and clean', () => {
  it('gc keeps what the current graph references and drops the rest', async () => {
    await (await rig.engine()).run();
    const before = await (await rig.engine()).cacheInfo();
    expect(before.records).toBe(ALL);

    // The noisy collection leaves the configuration: its tasks are no longer in the graph.
    const basicOnly = await rig.engine({ collections: ['basic'] });
    const report = await basicOnly.gc();
    expect(report.recordsDeleted).toBe(5); // 3 parse + grid + export of noisy
    expect(report.recordsKept).toBe(ALL - 5); // summary:all is still in the graph: kept (explain can diff it)
    expect(report.blobsDeleted).toBeGreaterThan(0);
    const after = await basicOnly.cacheInfo();
    expect(after.records).toBe(report.recordsKept);
    expect(after.bytes).toBeLessThan(before.bytes);

    rig.counter.reset();
    const next = await basicOnly.run();
    expect(rig.counter.ids()).toEqual(['summary:all']); // basic stayed cached; summary sees one grid now
    expect(next.summary.cached).toBe(6);
  });

  it('gc size and age limits evict by last use', async () => {
    const engine = await rig.engine();
    await engine.run();
    const none = await engine.gc({ maxAgeMs: 60_000 });
    expect(none.recordsDeleted).toBe(0);
    const aged = await engine.gc({ maxAgeMs: 60_000, now: Date.now() + 120_000 });
    expect(aged.recordsDeleted).toBe(ALL);
    expect((await engine.cacheInfo()).records).toBe(0);

    rig.counter.reset();
    await engine.run();
    expect(rig.counter.total()).toBe(ALL);
    const info = await engine.cacheInfo();
    const sized = await engine.gc({ maxBytes: Math.floor(info.bytes / 2) });
    expect(sized.bytesKept).toBeLessThanOrEqual(Math.floor(info.bytes / 2));
    expect(sized.recordsDeleted).toBeGreaterThan(0);
    expect(sized.recordsKept).toBeGreaterThan(0);
  });

  it('clean empties the store and, when asked, removes unedited published files', async () => {
    const engine = await rig.engine();
    await engine.run();
    const edited = join(rig.outDir, 'noisy/table.csv');
    writeFileSync(edited, 'hand edit');
    const report = await engine.clean({ outputs: true });
    expect(report.records).toBe(ALL);
    expect(report.outputsRemoved).toEqual([join(rig.outDir, 'basic/table.csv')]);
    expect(report.outputsKept).toEqual([edited]);
    expect(existsSync(join(rig.outDir, 'basic/table.csv'))).toBe(false);
    expect(existsSync(edited)).toBe(true);
    expect(await engine.cacheInfo()).toEqual({ records: 0, blobs: 0, bytes: 0 });
    rig.counter.reset();
    await engine.run();
    expect(rig.counter.total()).toBe(ALL);
  });
});

describe('a pluggable store', () => {
  it('runs on keyv with an in-memory Map, with the same incremental behaviour', async () => {
    const { store, maps } = mapStore('keyv Map (test)');
    const engine = await rig.engine({}, { store });
    const cold = await engine.run();
    expect(cold.summary.executed).toBe(ALL);
    expect(existsSync(join(rig.cacheDir, DEFAULT_STORE_FILE))).toBe(false);
    expect(maps.get('records')!.size).toBe(ALL);

    rig.counter.reset();
    const noop = await engine.run();
    expect(rig.counter.total()).toBe(0);
    expect(noop.stats.filesHashed).toBe(0);

    writeFileSync(rig.input('noisy', 1), '9');
    rig.counter.reset();
    await engine.run();
    expect(rig.counter.ids()).toEqual(['export:noisy', 'grid:noisy', 'parse:noisy/p1', 'summary:all']);

    const gc = await (await rig.engine({ collections: ['noisy'] }, { store })).gc();
    expect(gc.recordsDeleted).toBe(6); // basic parse x4, grid, export
  });
});

describe('a failing store', () => {
  it('a commit the store refuses fails the run with the store error, and nothing is recorded', async () => {
    const { store, maps } = mapStore('flaky (test)');
    store.putResults = async () => {
      throw new StoreWriteError('task records', 'flaky (test)', new Error('disk full'));
    };
    const engine = await rig.engine({}, { store });
    await expect(engine.run()).rejects.toThrow(/could not write task records to the cache store \(flaky \(test\)\): disk full/);
    expect(maps.get('records')?.size ?? 0).toBe(0);
    // The lock was released: the next run can start (and fails the same way, rather than "locked").
    await expect(engine.run()).rejects.toThrow(StoreWriteError);
  });

  it('a task\'s published files are handed to prepareBlobs before they are committed, and stored as given', async () => {
    const { store } = mapStore('preparing (test)');
    const calls: string[] = [];
    const prepared = new Set<Uint8Array>();
    const prepare = store.prepareBlobs.bind(store);
    store.prepareBlobs = (bytes) => {
      calls.push(`prepare ${bytes.length}`);
      for (const b of bytes) prepared.add(b);
      prepare(bytes);
    };
    const put = store.putResults.bind(store);
    store.putResults = async (batch) => {
      const files = batch.blobs.filter((blob) => prepared.has(blob.bytes)).length;
      calls.push(`put with ${files} prepared`);
      await put(batch);
    };
    const engine = await rig.engine({ collections: ['basic'] }, { store });
    await engine.run();
    // One export, one file: prepared once, and the same bytes were in a committed batch.
    expect(calls.filter((c) => c.startsWith('prepare'))).toEqual(['prepare 1']);
    expect(calls.indexOf('prepare 1')).toBeLessThan(calls.findIndex((c) => c === 'put with 1 prepared'));
    rig.counter.reset();
    rmSync(join(rig.outDir, 'basic', 'table.csv'));
    await engine.run(); // restored from the store, as published
    expect(rig.counter.ids()).toEqual([]);
    expect(readFileSync(join(rig.outDir, 'basic', 'table.csv'), 'utf8').length).toBeGreaterThan(0);
  });
});

