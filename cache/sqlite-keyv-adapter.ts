/**
 * A keyv@5 store adapter over better-sqlite3: the default backend of mdpipe's cache.
 *
 * Why our own adapter rather than `@keyv/sqlite`: that package depends on the `sqlite3` driver (checked:
 * @keyv/sqlite 4.0.8 → sqlite3 ^5.1.7), a second native build next to the better-sqlite3 we already have,
 * with an asynchronous query per call. Here `setMany`/`deleteMany` are one transaction each and
 * `getMany`/`hasMany` one read transaction, which the engine's batched commit and no-op paths rely on:
 * 3,400 puts must not be 3,400 transactions.
 *
 * Why SQLite rather than a file-per-key store (`file-keyv-adapter.ts`, same keyv interface, write to a
 * temporary name then rename), measured with `bench/engine-scale.ts` (through `KeyvCacheStore`, one batch
 * each, records of ~1.3 kB) on the project's dev container (2 cores shared with other work, overlay file
 * system, Node 20; ranges over four runs at load averages 3.5 to 6):
 *
 *   | operation                     | SQLite (this file) | file per key     |
 *   | ----------------------------- | ------------------ | ---------------- |
 *   | 3,400 record puts (cold)      | 173 – 336 ms       | 1,470 – 3,675 ms |
 *   | 3,400 record gets (no-op)     |  67 – 114 ms       |   481 – 1,123 ms |
 *
 * Within each run SQLite was 4 to 15 times faster, and in WAL mode it is crash-safe under SIGKILL (a transaction
 * is committed or absent), lets read-only commands read while a run writes, and keeps the cache one file
 * instead of tens of thousands. Batched reads are a prepared point lookup per key inside one read
 * transaction: on 20,000 keys that beat a single `key IN (SELECT value FROM json_each(?))` statement
 * (75–83 ms against 100–170 ms), and a `WITHOUT ROWID` table was slower still (156–193 ms).
 *
 * One table holds every namespace; keyv prefixes keys with `namespace:`, so a namespace is a key range
 * (`ns:` ≤ key < `ns;`), which `clear` and `iterator` use. Several adapters (one per keyv namespace) share
 * one {@link SqliteKeyvDatabase}.
 */
import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/** One SQLite file holding keyv entries; hands out one adapter per keyv namespace. */
export class SqliteKeyvDatabase {
  readonly db: Database.Database;
  readonly #get: Database.Statement<[string], { value: string }>;
  readonly #has: Database.Statement<[string], number>;
  readonly #readMany: (keys: readonly string[]) => (string | undefined)[];
  readonly #hasManyTx: (keys: readonly string[]) => boolean[];
  readonly #set: Database.Statement<[string, string]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deleteMany: Database.Statement<[string]>;
  readonly #clearRange: Database.Statement<[string, string]>;
  readonly #page: Database.Statement<[string, string, number], { key: string; value: string }>;
  readonly #setManyTx: (entries: ReadonlyArray<{ key: string; value: unknown }>) => void;

  /**
   * @param file path of the database file (created if absent), or `:memory:`.
   * @param options.readonly open without write access (fails if the file does not exist).
   */
  constructor(
    readonly file: string,
    options: { readonly?: boolean } = {},
  ) {
    this.db = new Database(file, { readonly: options.readonly ?? false });
    this.db.pragma('busy_timeout = 10000');
    if (!options.readonly) {
      // Incremental auto-vacuum lets GC give space back without a full VACUUM; it only takes effect on a
      // new database (before the first table), which is the case that matters.
      this.db.pragma('auto_vacuum = INCREMENTAL');
      this.db.pragma('journal_mode = WAL');
      // OFF: SQLite hands writes to the operating system and never waits for the disk. A committed
      // transaction still survives a process kill (SIGKILL, Ctrl-C twice, a crash): the data is in the
      // kernel's page cache and WAL recovery sees it. What OFF gives up is power loss or an OS crash:
      // the last commits may be lost and the file may be damaged, which mdpipe reports on open or read
      // with the fix (delete the cache: it only holds results mdpipe can rebuild). In exchange a cold
      // build does not wait for ~13 MB to reach the disk at each WAL checkpoint: NORMAL measured 436-521 ms
      // of store writes on the benchmark's cold build, OFF 244-256 ms (bench/results, 2026-11-27).
      this.db.pragma('synchronous = OFF');
      this.db.exec('CREATE TABLE IF NOT EXISTS keyv (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    }
    this.#get = this.db.prepare('SELECT value FROM keyv WHERE key = ?');
    this.#has = this.db.prepare('SELECT 1 FROM keyv WHERE key = ?').pluck() as Database.Statement<[string], number>;
    // Batched reads: a prepared point lookup per key inside one read transaction (one snapshot); see the
    // header for why not one `IN (json_each)` statement.
    this.#readMany = this.db.transaction((keys: readonly string[]) => keys.map((key) => this.#get.get(key)?.value));
    this.#hasManyTx = this.db.transaction((keys: readonly string[]) => keys.map((key) => this.#has.get(key) !== undefined));
    this.#set = this.db.prepare(
      'INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.#delete = this.db.prepare('DELETE FROM keyv WHERE key = ?');
    this.#deleteMany = this.db.prepare('DELETE FROM keyv WHERE key IN (SELECT value FROM json_each(?))');
    this.#clearRange = this.db.prepare('DELETE FROM keyv WHERE key >= ? AND key < ?');
    this.#page = this.db.prepare('SELECT key, value FROM keyv WHERE key > ? AND key < ? ORDER BY key LIMIT ?');
    this.#setManyTx = this.db.transaction((entries: ReadonlyArray<{ key: string; value: unknown }>) => {
      for (const entry of entries) this.#set.run(entry.key, asText(entry.key, entry.value));
    });
  }

  /** A keyv store adapter over this database (keyv sets its `namespace`). */
  adapter(): SqliteKeyvAdapter {
    return new SqliteKeyvAdapter(this);
  }

  /** Give pages freed by deletions back to the file system. */
  compact(): void {
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** @internal */ get(key: string): string | undefined {
    return this.#get.get(key)?.value;
  }
  /** @internal */ getMany(keys: readonly string[]): (string | undefined)[] {
    return this.#readMany(keys);
  }
  /** @internal */ hasMany(keys: readonly string[]): boolean[] {
    return this.#hasManyTx(keys);
  }
  /** @internal */ set(key: string, value: unknown): void {
    this.#set.run(key, asText(key, value));
  }
  /** @internal */ setMany(entries: ReadonlyArray<{ key: string; value: unknown }>): void {
    this.#setManyTx(entries);
  }
  /** @internal */ delete(key: string): boolean {
    return this.#delete.run(key).changes > 0;
  }
  /** @internal */ deleteMany(keys: readonly string[]): boolean {
    return this.#deleteMany.run(JSON.stringify(keys)).changes > 0;
  }
  /** @internal */ clearRange(from: string, to: string): void {
    this.#clearRange.run(from, to);
  }
  /** @internal */ page(after: string, before: string, limit: number): { key: string; value: string }[] {
    return this.#page.all(after, before, limit);
  }
}

function asText(key: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `sqlite keyv adapter: the value for "${key}" is a ${typeof value}, not a string; ` +
        'keep a keyv serializer that produces strings (the default does)',
    );
  }
  return value;
}

/** Key range of a keyv namespace: keyv writes keys as `namespace:key`. */
function rangeOf(namespace: string | undefined): [string, string] {
  return namespace === undefined ? ['', '\u{10FFFF}'] : [`${namespace}:`, `${namespace};`];
}

/** The keyv@5 `KeyvStoreAdapter` for one namespace of a {@link SqliteKeyvDatabase}. */
export class SqliteKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  /** keyv reads `opts.dialect` to decide that this adapter can iterate. */
  readonly opts: { dialect: 'sqlite'; url: string };
  namespace?: string;

  constructor(readonly database: SqliteKeyvDatabase) {
    super();
    this.opts = { dialect: 'sqlite', url: `sqlite://${database.file}` };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.database.get(key) as StoredData<Value> | undefined;
  }
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return this.database.getMany(keys) as Array<StoredData<Value | undefined>>;
  }
  async set(key: string, value: unknown): Promise<boolean> {
    this.database.set(key, value);
    return true;
  }
  /** One transaction for the whole batch. Returns one `true` per entry (keyv passes it through). */
  async setMany(values: Array<{ key: string; value: unknown }>): Promise<void> {
    this.database.setMany(values);
    return values.map(() => true) as unknown as void;
  }
  async delete(key: string): Promise<boolean> {
    return this.database.delete(key);
  }
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.database.deleteMany(keys);
  }
  async has(key: string): Promise<boolean> {
    return this.database.hasMany([key])[0];
  }
  async hasMany(keys: string[]): Promise<boolean[]> {
    return this.database.hasMany(keys);
  }
  async clear(): Promise<void> {
    const [from, to] = rangeOf(this.namespace);
    this.database.clearRange(from, to);
  }
  /** Pages through the namespace in key order; each page is one query. */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const [from, to] = rangeOf(namespace ?? this.namespace);
    let after = from;
    for (;;) {
      const rows = this.database.page(after, to, 1000);
      for (const row of rows) yield [row.key, row.value as Awaited<Value>];
      if (rows.length < 1000) return;
      after = rows[rows.length - 1].key;
    }
  }
  /** The database is shared by several adapters; its owner closes it. */
  async disconnect(): Promise<void> {}
}
