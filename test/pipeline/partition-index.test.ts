/**
 * The partition index (pipeline/partition-index.ts): a build where the partitions are unchanged decides
 * them from one stored value, reading none of their records. Asserted by counting the record ids the
 * engine asks the store for, and the run-function calls.
 */
import { utimesSync } from 'node:fs';
import { openDefaultStore } from '../../cache/default-store.js';
import type { CacheStore } from '../../cache/store.js';
import { decodeIndex, encodeIndex, PARTITION_INDEX } from '../../pipeline/partition-index.js';
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
});
