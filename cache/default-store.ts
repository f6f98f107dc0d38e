/**
 * The default cache store: SQLite (through our keyv adapter) in `<cacheDir>/cache.sqlite`, and what to do
 * when that file is damaged.
 *
 * A damaged database (not SQLite at all, truncated, corrupt pages) is derived data: it is renamed aside
 * (`cache.sqlite.damaged-<time>`, kept for a post-mortem, named in the warning) and an empty store takes
 * its place, so the build goes on and only costs a cold rebuild. Published outputs are never touched.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { isDamagedStoreError, StoreOpenError } from './errors.js';
import { KeyvCacheStore, type StoreNamespace } from './keyv-store.js';
import type { CacheStore } from './store.js';
import { SqliteKeyvDatabase } from './sqlite-keyv-adapter.js';

/** File name of the default store inside the cache directory. */
export const DEFAULT_STORE_FILE = 'cache.sqlite';

/**
 * Values are plain JSON or strings (see `keyv-store.ts`), so plain `JSON.stringify`/`JSON.parse` replace
 * keyv's default serializer, whose per-value reviver costs more than the parse itself on 20,000 entries.
 */
const serialize = (data: unknown): string => JSON.stringify(data);
const deserialize = <Value>(text: string): { value?: Value; expires?: number } => JSON.parse(text);

/** A tier behind the SQLite adapters (the shared cache, `cache/shared/`): wraps each namespace's adapter. */
export interface StoreTier {
  wrap(namespace: StoreNamespace, local: KeyvStoreAdapter): KeyvStoreAdapter;
  /** Added to the store's description (`sqlite:… + redis://host:port/0`); never a password. */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the default SQLite store in `cacheDir`, with an optional tier behind it.
 * @throws StoreOpenError naming the file and the fix (read-only, full disk, not a database)
 */
export function openDefaultStore(cacheDir: string, tier?: StoreTier): KeyvCacheStore {
  const file = join(cacheDir, DEFAULT_STORE_FILE);
  let database: SqliteKeyvDatabase;
  try {
    mkdirSync(cacheDir, { recursive: true });
    database = new SqliteKeyvDatabase(file);
  } catch (error) {
    throw new StoreOpenError(`sqlite:${file}`, error);
  }
  return new KeyvCacheStore({
    description: tier ? `sqlite:${file} + ${tier.description}` : `sqlite:${file}`,
    keyv: (namespace) =>
      new Keyv({ store: tier ? tier.wrap(namespace, database.adapter()) : database.adapter(), namespace, serialize, deserialize, throwOnErrors: true }),
    compact: () => database.compact(),
    close: async () => {
      database.close();
      await tier?.close();
    },
  });
}

/**
 * If `error` says the default store in `cacheDir` is damaged: closes `store` (if open), renames the
 * database and its WAL and shared-memory files aside, opens an empty store with the same `tier` behind it
 * (the caller passes the one the damaged store had: a run with a shared cache keeps it) and returns it with
 * a warning naming where the damaged file went. Otherwise undefined (the error is not about damage).
 * Closing the damaged store closes its tier, so a tier that outlives it has a `close` that keeps it open.
 */
export async function replaceDamagedStore(
  cacheDir: string,
  store: CacheStore | undefined,
  error: unknown,
  tier?: StoreTier,
): Promise<{ store: KeyvCacheStore; message: string } | undefined> {
  if (!isDamagedStoreError(error)) return undefined;
  await store?.close().catch(() => {});
  const file = join(cacheDir, DEFAULT_STORE_FILE);
  const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  }
  const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return {
    store: openDefaultStore(cacheDir, tier),
    message: `the cache database was damaged (${why}); moved it aside to ${aside} and started from an empty cache (outputs are untouched; results are rebuilt)`,
  };
}
