/**
 * The partition index (pipeline/partition-index.ts): a build where the partitions are unchanged decides
 * them from one stored value, reading none of their records. Asserted by counting the record ids the
 * engine asks the store for, and the run-function calls.
 */
import { utimesSync } from 'node:fs';
import { openDefaultStore } from '../../cache/default-store.js';
import type { CacheStore } from '../../cache/store.js';
import { decodeIndex, encodeIndex, indexWrites, loadIndex, PARTITION_INDEX, PARTITION_INDEX_DELTA, type IndexEntry } from '../../pipeline/partition-index.js';
import { EngineRig } from '../helpers/engine-rig.js';

/** Wraps a store, recording every id passed to getRecords. */
function countingStore(store: CacheStore): { store: CacheStore; recordIds: string[] } {
  const recordIds: string[] = [];
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'getRecords') {
        return (ids: readonly string[]) => {
          recordIds.push(...ids);
          return target.getRecords(ids);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, recordIds };
}

const PARTITIONS = 7; // rig: 4 basic + 3 noisy
const NOT_PARTITIONS = ['export:basic', 'export:noisy', 'grid:basic', 'grid:noisy', 'summary:all'];

let rig: EngineRig;
let store: CacheStore;
beforeEach(() => {
  rig = new EngineRig();
  store = openDefaultStore(rig.cacheDir);
});
afterEach(async () => {
  await rig.cleanup();
  await store.close();
});

async function build(behaviour = {}) {
  const counting = countingStore(store);
  const engine = await rig.engine(behaviour, { store: counting.store });
  const result = await engine.run();
  return { result, recordIds: [...counting.recordIds].sort() };
}

describe('partition index', () => {
  it('a no-op after a cold build reads no partition record and runs nothing', async () => {
    const cold = await build();
    expect(cold.result.summary.executed).toBe(PARTITIONS + NOT_PARTITIONS.length);
    expect(await store.getIndex!(PARTITION_INDEX)).toBeDefined();
    rig.counter.reset();
    const noop = await build();
    expect(noop.result.summary).toMatchObject({ executed: 0, cached: PARTITIONS + NOT_PARTITIONS.length });
    expect(rig.counter.total()).toBe(0);
    expect(noop.recordIds).toEqual(NOT_PARTITIONS);
  });

  it('a touched input sends only its task the ordinary way, and the next no-op is back on the index', async () => {
    await build();
    await build();
    utimesSync(rig.input('basic', 1), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const touched = await build();
    expect(touched.result.summary.executed).toBe(0);
    expect(touched.recordIds).toEqual([...NOT_PARTITIONS, 'parse:basic/p1'].sort());
    const again = await build();
    expect(again.recordIds).toEqual(NOT_PARTITIONS);
  });

  it('a changed parameter misses the index (the key is recomputed) and every partition runs', async () => {
    await build();
    rig.counter.reset();
    const changed = await build({ scale: 3 });
    expect(rig.counter.total('parse')).toBe(PARTITIONS);
    expect(changed.recordIds).toHaveLength(PARTITIONS + NOT_PARTITIONS.length);
  });

  it('the store drops the index whenever records or blobs are deleted', async () => {
    await build();
    expect(await store.getIndex!(PARTITION_INDEX)).toBeDefined();
    await store.deleteRecords(['parse:basic/p0']);
    expect(await store.getIndex!(PARTITION_INDEX)).toBeUndefined();
    rig.counter.reset();
    const rebuilt = await build();
    expect(rig.counter.ids()).toEqual(['parse:basic/p0']); // its output is unchanged: downstream is cut off
    expect(rebuilt.recordIds).toHaveLength(PARTITIONS + NOT_PARTITIONS.length);
    expect(await store.getIndex!(PARTITION_INDEX)).toBeDefined();
    await store.deleteBlobs([]);
    expect(await store.getIndex!(PARTITION_INDEX)).toBeDefined(); // nothing deleted, nothing dropped
    await store.clear();
    expect(await store.getIndex!(PARTITION_INDEX)).toBeUndefined();
  });

  it('partition inputs get no stat memo rows: the index vouches for them, even when it cannot decide the task', async () => {
    await build();
    const memoPaths = await store.listStatMemoPaths();
    expect(memoPaths.length).toBeGreaterThan(0); // the published files
    expect(memoPaths.filter((p) => p.startsWith(rig.rawDir))).toEqual([]);
    // Entries past the touch interval cannot decide their tasks (the records' last-use time is due), but
    // their inputs' digests still hold: the records are read and nothing is hashed.
    const index = decodeIndex(await store.getIndex!(PARTITION_INDEX));
    for (const entry of index.values()) entry.usedAt -= 2 * 60 * 60 * 1000;
    await store.putIndex!(PARTITION_INDEX, encodeIndex(index));
    rig.counter.reset();
    const due = await build();
    expect(rig.counter.total()).toBe(0);
    expect(due.recordIds).toHaveLength(PARTITIONS + NOT_PARTITIONS.length);
    expect(due.result.stats.filesHashed).toBe(0);
    const again = await build();
    expect(again.recordIds).toEqual(NOT_PARTITIONS);
  });

  it('a touch stores a delta of its entry, not the whole index; the next no-op reads both and stays on the index', async () => {
    await build();
    const base = await store.getIndex!(PARTITION_INDEX);
    expect(await store.getIndex!(PARTITION_INDEX_DELTA)).toBeUndefined();
    utimesSync(rig.input('noisy', 2), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const touched = await build();
    expect(touched.result.summary.executed).toBe(0);
    expect(await store.getIndex!(PARTITION_INDEX)).toBe(base); // the base was not rewritten
    const delta = await store.getIndex!(PARTITION_INDEX_DELTA);
    expect(Object.keys(JSON.parse(delta!).e)).toEqual(['parse:noisy/p2']);
    rig.counter.reset();
    const again = await build();
    expect(rig.counter.total()).toBe(0);
    expect(again.recordIds).toEqual(NOT_PARTITIONS); // the touched task is decided from the delta's entry
  });
});

describe('partition index: base and delta', () => {
  const entry = (n: number): IndexEntry => ({ key: `k${n}`, out: `o${n}`, usedAt: n, stats: [`${n}:1:1:1`], digests: [`d${n}`] });
  const ids = (n: number) => Array.from({ length: n }, (_, k) => `parse:c/p${k}`);

  it('small changes go to the delta; past a sixteenth of the base (at least 64) the whole index is a new base', () => {
    const stored = new Map<string, string>();
    const put = (writes: Array<[string, string]>) => writes.forEach(([name, text]) => stored.set(name, text));
    const load = () => loadIndex(stored.get(PARTITION_INDEX), stored.get(PARTITION_INDEX_DELTA));

    let loaded = load();
    for (const [k, id] of ids(2000).entries()) loaded.entries.set(id, entry(k));
    put(indexWrites(loaded, new Map(ids(2000).map((id, k) => [id, entry(k)])), false)); // no base yet: a base
    expect([...stored.keys()]).toEqual([PARTITION_INDEX]);

    // 100 changes (under 2000/16 = 125): a delta; one entry removed, one replaced.
    loaded = load();
    const changes = new Map<string, IndexEntry | null>(ids(100).map((id, k) => [id, entry(k + 5000)]));
    changes.set('parse:c/p1999', null);
    for (const [id, e] of changes) (e === null ? loaded.entries.delete(id) : loaded.entries.set(id, e));
    const baseBefore = stored.get(PARTITION_INDEX);
    put(indexWrites(loaded, changes, false));
    expect(stored.get(PARTITION_INDEX)).toBe(baseBefore);
    loaded = load();
    expect(loaded.entries.size).toBe(1999);
    expect(loaded.entries.get('parse:c/p0')).toEqual(entry(5000));
    expect(loaded.entries.get('parse:c/p500')).toEqual(entry(500));
    expect(loaded.entries.has('parse:c/p1999')).toBe(false);

    // 30 more (the delta would hold 131 > 125): folded into a new base; the old delta no longer applies.
    const more = new Map<string, IndexEntry | null>(ids(130).slice(100).map((id, k) => [id, entry(k + 9000)]));
    for (const [id, e] of more) loaded.entries.set(id, e!);
    const generation = loaded.generation;
    put(indexWrites(loaded, more, false));
    expect(stored.get(PARTITION_INDEX)).not.toBe(baseBefore);
    expect(JSON.parse(stored.get(PARTITION_INDEX)!).g).toBe(generation + 1);
    const folded = load();
    expect(folded.delta.size).toBe(0); // the stored delta is of the previous generation: ignored
    expect(folded.entries.size).toBe(1999);
    expect(folded.entries.get('parse:c/p0')).toEqual(entry(5000));
    expect(folded.entries.get('parse:c/p100')).toEqual(entry(9000));
  });

  it('a build that saw the index dropped writes a new base; a delta without a base is ignored', () => {
    const base = encodeIndex(new Map(ids(3).map((id, k) => [id, entry(k)])), 4);
    const loaded = loadIndex(base, undefined);
    loaded.entries.set(ids(1)[0], entry(7)); // changes are applied to the entries first (as the engine does)
    const writes = indexWrites(loaded, new Map([[ids(1)[0], entry(7)]]), true);
    expect(writes.map(([name]) => name)).toEqual([PARTITION_INDEX]);
    expect(loadIndex(writes[0][1], undefined).entries.get(ids(1)[0])).toEqual(entry(7));
    const delta = indexWrites(loadIndex(base, undefined), new Map([[ids(1)[0], entry(8)]]), false);
    expect(delta.map(([name]) => name)).toEqual([PARTITION_INDEX_DELTA]);
    expect(loadIndex(undefined, delta[0][1]).entries.size).toBe(0);
    expect(loadIndex(base, delta[0][1]).entries.get(ids(1)[0])).toEqual(entry(8));
  });
});
