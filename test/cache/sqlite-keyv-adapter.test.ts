/**
 * The SQLite keyv adapter through keyv itself: namespaces kept apart, batch operations, iteration, clear,
 * and values surviving a reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { FileKeyvAdapter } from '../../cache/file-keyv-adapter.js';
import { SqliteKeyvDatabase } from '../../cache/sqlite-keyv-adapter.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdpipe-kv-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const backends = {
  sqlite: () => {
    const database = new SqliteKeyvDatabase(join(dir, 'kv.sqlite'));
    return { open: (namespace: string) => new Keyv({ store: database.adapter(), namespace }), close: () => database.close() };
  },
  'file per key': () => ({ open: (namespace: string) => new Keyv({ store: new FileKeyvAdapter(join(dir, 'kv')), namespace }), close: () => {} }),
};

describe.each(Object.entries(backends))('%s keyv adapter', (_name, make) => {
  it('keeps namespaces apart and supports the batch operations keyv calls', async () => {
    const backend = make();
    const a = backend.open('a');
    const b = backend.open('b');
    await a.setMany([
      { key: 'x', value: { n: 1 } },
      { key: 'y', value: 'text: with colon' },
    ]);
    await b.set('x', [1, 2, 3]);
    expect(await a.getMany(['x', 'y', 'missing'])).toEqual([{ n: 1 }, 'text: with colon', undefined]);
    expect(await b.get('x')).toEqual([1, 2, 3]);
    expect(await a.hasMany(['x', 'missing'])).toEqual([true, false]);
    await a.deleteMany(['x']);
    expect(await a.get('x')).toBeUndefined();
    expect(await b.get('x')).toEqual([1, 2, 3]);
    const listed: [string, unknown][] = [];
    for await (const entry of (a.store as FileKeyvAdapter).iterator('a')) listed.push(entry as [string, unknown]);
    expect(listed.map(([key]) => key)).toEqual(['a:y']);
    await a.clear();
    expect(await a.get('y')).toBeUndefined();
    expect(await b.get('x')).toEqual([1, 2, 3]);
    backend.close();
  });

  it('iterates more entries than one page and keeps values across reopening', async () => {
    let backend = make();
    const keyv = backend.open('many');
    await keyv.setMany(Array.from({ length: 2500 }, (_, k) => ({ key: `k${String(k).padStart(4, '0')}`, value: k })));
    backend.close();
    backend = make();
    const reopened = backend.open('many');
    let count = 0;
    for await (const _ of (reopened.store as FileKeyvAdapter).iterator('many')) count++;
    expect(count).toBe(2500);
    expect(await reopened.get('k2499')).toBe(2499);
    backend.close();
  });
});

it('the SQLite database is in WAL mode, and a batch is one transaction', () => {
  const database = new SqliteKeyvDatabase(join(dir, 'wal.sqlite'));
  expect(database.db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(() => database.setMany([{ key: 'ok', value: '1' }, { key: 'bad', value: 2 as unknown as string }])).toThrow(/not a string/);
  expect(database.getMany(['ok'])).toEqual([undefined]); // rolled back with the bad entry
  database.close();
});
