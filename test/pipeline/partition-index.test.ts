/**
 * The partition index (pipeline/partition-index.ts): a build where the partitions are unchanged decides
 * them from one stored value, reading none of their records. Asserted by counting the record ids the
 * engine asks the store for, and the run-function calls.
 */
import { utimesSync } from 'node:fs';
import { openDefaultStore } from '../../cache/default-store.js';
import type { CacheStore } from '../../cache/store.js';
import { sha256 } from '../../cache/digest.js';
import { decodeTable, encodeTable, indexNames, PartitionIndex, type IndexEntry } from '../../pipeline/partition-index.js';
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
const BASIC = indexNames('parse:basic');
const NOISY = indexNames('parse:noisy');
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
    expect(await store.getIndex!(BASIC.base)).toBeDefined();
    expect(await store.getIndex!(NOISY.base)).toBeDefined();
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
    expect(await store.getIndex!(BASIC.base)).toBeDefined();
    await store.deleteRecords(['parse:basic/p0']);
    expect(await store.getIndex!(BASIC.base)).toBeUndefined();
    expect(await store.getIndex!(NOISY.base)).toBeUndefined();
    rig.counter.reset();
    const rebuilt = await build();
    expect(rig.counter.ids()).toEqual(['parse:basic/p0']); // its output is unchanged: downstream is cut off
    expect(rebuilt.recordIds).toHaveLength(PARTITIONS + NOT_PARTITIONS.length);
    expect(await store.getIndex!(BASIC.base)).toBeDefined();
    expect(await store.getIndex!(NOISY.base)).toBeDefined();
    await store.deleteBlobs([]);
    expect(await store.getIndex!(BASIC.base)).toBeDefined(); // nothing deleted, nothing dropped
    await store.clear();
    expect(await store.getIndex!(BASIC.base)).toBeUndefined();
  });

  it('partition inputs get no stat memo rows: the index vouches for them, even when it cannot decide the task', async () => {
    await build();
    const memoPaths = await store.listStatMemoPaths();
    expect(memoPaths.length).toBeGreaterThan(0); // the published files
    expect(memoPaths.filter((p) => p.startsWith(rig.rawDir))).toEqual([]);
    // Entries past the touch interval cannot decide their tasks (the records' last-use time is due), but
    // their inputs' digests still hold: the records are read and nothing is hashed.
    for (const names of [BASIC, NOISY]) {
      const table = decodeTable(await store.getIndex!(names.base))!;
      const entries = table.ids.map((id, row) => [id, table.entry(row)] as const);
      for (const [, entry] of entries) entry.usedAt -= 2 * 60 * 60 * 1000;
      await store.putIndex!(names.base, encodeTable(table.generation, entries));
    }
    rig.counter.reset();
    const due = await build();
    expect(rig.counter.total()).toBe(0);
    expect(due.recordIds).toHaveLength(PARTITIONS + NOT_PARTITIONS.length);
    expect(due.result.stats.filesHashed).toBe(0);
    const again = await build();
    expect(again.recordIds).toEqual(NOT_PARTITIONS);
  });

  it('a touch stores a delta of its entry in its collection only; the next no-op reads both and stays on the index', async () => {
    await build();
    const bases = [await store.getIndex!(BASIC.base), await store.getIndex!(NOISY.base)];
    expect(await store.getIndex!(NOISY.delta)).toBeUndefined();
    utimesSync(rig.input('noisy', 2), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const touched = await build();
    expect(touched.result.summary.executed).toBe(0);
    // Neither base was rewritten, and the other collection got no delta.
    expect([await store.getIndex!(BASIC.base), await store.getIndex!(NOISY.base)]).toEqual(bases);
    expect(await store.getIndex!(BASIC.delta)).toBeUndefined();
    expect(decodeTable(await store.getIndex!(NOISY.delta))!.ids).toEqual(['parse:noisy/p2']);
    rig.counter.reset();
    const again = await build();
    expect(rig.counter.total()).toBe(0);
    expect(again.recordIds).toEqual(NOT_PARTITIONS); // the touched task is decided from the delta's entry
  });
});

describe('partition index: columns, base and delta', () => {
  const hex = (n: number, what: string) => sha256(`${what}${n}`);
  const entry = (n: number): IndexEntry => ({
    key: hex(n, 'k'),
    out: hex(n, 'o'),
    usedAt: n + 0.5,
    stats: [{ size: n, mtimeMs: 1_700_000_000_123.4568 + n, ctimeMs: 1_700_000_000_123.4568 + 2 ** -12 + n, ino: 2 ** 52 + n }, undefined, null],
    digests: [hex(n, 'd'), 'absent', hex(n, 'e')],
  });
  const ids = (n: number) => Array.from({ length: n }, (_, k) => `parse:c/p${k}`);
  /** A store of index values, and the index a build would load from it. */
  const stored = new Map<string, string>();
  const load = (groups = ['parse:c']) => PartitionIndex.load(async (name) => stored.get(name), groups);
  const put = (writes: Array<[string, string]>) => writes.forEach(([name, text]) => stored.set(name, text));
  const names = indexNames('parse:c');
  beforeEach(() => stored.clear());

  it('round-trips every field exactly (every bit of the stats, absent and unknown inputs, fractional times)', () => {
    const entries = ids(3).map((id, k) => [id, entry(k)] as const);
    const table = decodeTable(encodeTable(9, entries, ['parse:c/gone']))!;
    expect(table.generation).toBe(9);
    expect(table.ids).toEqual(ids(3));
    expect(table.removed).toEqual(['parse:c/gone']);
    expect(table.ids.map((_, row) => table.entry(row))).toEqual(entries.map(([, e]) => e));
  });

  it('reads anything damaged, truncated or of another version as no index', () => {
    const text = encodeTable(1, ids(2).map((id, k) => [id, entry(k)] as const));
    const bytes = Buffer.from(text, 'base64');
    expect(decodeTable(bytes.subarray(0, bytes.length - 8).toString('base64'))).toBeUndefined();
    const other = Buffer.from(bytes);
    other.writeUInt32LE(3, 4); // version 3
    expect(decodeTable(other.toString('base64'))).toBeUndefined();
    expect(decodeTable('{"v":3,"g":1,"e":{}}')).toBeUndefined();
    expect(decodeTable(undefined)).toBeUndefined();
  });

  it('small changes go to the delta; past a sixteenth of the base (at least 64) the group is a new base', async () => {
    let index = await load();
    ids(2000).forEach((id, k) => index.set(id, entry(k)));
    put(index.writes(false)); // no base yet: a base
    expect([...stored.keys()]).toEqual([names.base]);

    // 100 changes (under 2000/16 = 125): a delta; one entry removed, one replaced.
    index = await load();
    ids(100).forEach((id, k) => index.set(id, entry(k + 5000)));
    index.set('parse:c/p1999', null);
    const baseBefore = stored.get(names.base);
    put(index.writes(false));
    expect(stored.get(names.base)).toBe(baseBefore);
    index = await load();
    expect(index.ids()).toHaveLength(1999);
    expect(index.get('parse:c/p0')).toEqual(entry(5000));
    expect(index.get('parse:c/p500')).toEqual(entry(500));
    expect(index.get('parse:c/p1999')).toBeUndefined();

    // 30 more (the delta would hold 131 > 125): folded into a new base; the old delta no longer applies.
    ids(130).slice(100).forEach((id, k) => index.set(id, entry(k + 9000)));
    put(index.writes(false));
    expect(stored.get(names.base)).not.toBe(baseBefore);
    expect(decodeTable(stored.get(names.base))!.generation).toBe(2);
    expect(decodeTable(stored.get(names.delta))!.generation).toBe(1); // stale: ignored
    const folded = await load();
    expect(folded.ids()).toHaveLength(1999);
    expect(folded.get('parse:c/p0')).toEqual(entry(5000));
    expect(folded.get('parse:c/p100')).toEqual(entry(9000));
    expect(folded.get('parse:c/p1999')).toBeUndefined();
  });

  it('a build that saw the index dropped writes a new base; a delta without a base is ignored', async () => {
    put([[names.base, encodeTable(4, ids(3).map((id, k) => [id, entry(k)] as const))]]);
    let index = await load();
    index.set(ids(1)[0], entry(7));
    const writes = index.writes(true);
    expect(writes.map(([name]) => name)).toEqual([names.base]);
    expect(decodeTable(writes[0][1])!.generation).toBe(5);
    index = await load();
    index.set(ids(1)[0], entry(8));
    const delta = index.writes(false);
    expect(delta.map(([name]) => name)).toEqual([names.delta]);
    put(delta);
    expect((await load()).get(ids(1)[0])).toEqual(entry(8));
    stored.delete(names.base);
    expect((await load()).get(ids(1)[0])).toBeUndefined();
  });

  it('a change in one group writes that group only', async () => {
    const index = await load(['parse:a', 'parse:b']);
    index.set('parse:a/p0', entry(0));
    index.set('parse:b/p0', entry(1));
    put(index.writes(false));
    const next = await load(['parse:a', 'parse:b']);
    next.set('parse:b/p0', entry(2));
    expect(next.writes(false).map(([name]) => name)).toEqual([indexNames('parse:b').delta]);
  });
});
