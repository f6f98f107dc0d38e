/**
 * The default cache store: SQLite (through our keyv adapter) in `<cacheDir>/cache.sqlite`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { StoreOpenError } from './errors.js';
import { KeyvCacheStore } from './keyv-store.js';
import { SqliteKeyvDatabase } from './sqlite-keyv-adapter.js';

/** File name of the default store inside the cache directory. */
export const DEFAULT_STORE_FILE = 'cache.sqlite';

/**
 * Values are plain JSON or strings (see `keyv-store.ts`), so plain `JSON.stringify`/`JSON.parse` replace
 * keyv's default serializer, whose per-value reviver costs more than the parse itself on 20,000 entries.
 */
const serialize = (data: unknown): string => JSON.stringify(data);
const deserialize = <Value>(text: string): { value?: Value; expires?: number } => JSON.parse(text);

/**
 * Opens (creating if needed) the default SQLite store in `cacheDir`.
 * @throws StoreOpenError naming the file and the fix (read-only, full disk, not a database)
 */
export function openDefaultStore(cacheDir: string): KeyvCacheStore {
  const file = join(cacheDir, DEFAULT_STORE_FILE);
  let database: SqliteKeyvDatabase;
  try {
    mkdirSync(cacheDir, { recursive: true });
    database = new SqliteKeyvDatabase(file);
  } catch (error) {
    throw new StoreOpenError(`sqlite:${file}`, error);
  }
  return new KeyvCacheStore({
    description: `sqlite:${file}`,
    keyv: (namespace) =>
      new Keyv({ store: database.adapter(), namespace, serialize, deserialize, throwOnErrors: true }),
    compact: () => database.compact(),
    close: () => database.close(),
  });
}
