/**
 * The default cache store: SQLite (through our keyv adapter) in `<cacheDir>/cache.sqlite`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Keyv } from 'keyv';
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

/** Opens (creating if needed) the default SQLite store in `cacheDir`. */
export function openDefaultStore(cacheDir: string): KeyvCacheStore {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, DEFAULT_STORE_FILE);
  const database = new SqliteKeyvDatabase(file);
  return new KeyvCacheStore({
    description: `sqlite:${file}`,
    keyv: (namespace) =>
      new Keyv({ store: database.adapter(), namespace, serialize, deserialize, throwOnErrors: true }),
    compact: () => database.compact(),
    close: () => database.close(),
  });
}
