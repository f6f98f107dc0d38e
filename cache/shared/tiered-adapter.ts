/**
 * A keyv store adapter in two tiers: the local adapter (SQLite) in front, the shared Redis tier behind.
 * It sits under `KeyvCacheStore`, so the store, its record layout and its commit order stay as they are:
 *
 * - reads go local first; only keys the local tier lacks go to Redis, in one batched call; every fetched
 *   entry is checked (`verify.ts`) and a failing one is a miss with a warning naming its key: the engine
 *   rebuilds it here, and the bad value is never stored locally nor used;
 * - `hasMany` (the engine's blob-existence check) answers for a locally missing blob by fetching and
 *   checking it, so "exists" always means "verified", never "Redis says so";
 * - verified entries are copied into the local tier (`promote`, for `run`), so the next run is local;
 *   read-only verbs (`status`, `explain`, `--dry-run`) keep them in memory instead and write nothing;
 * - writes go to the local tier, then (unless read-only) to Redis in the same order the store issues them
 *   (blob sizes, blobs, records), so a record never reaches Redis before its blobs;
 * - deletions, clearing and listing are local only: `clean`, `gc` and invalidation never touch what the
 *   team shares.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { RedisTier } from './redis-tier.js';
import { blobSizeOf, checkSharedEntry } from './verify.js';

export interface TieredOptions {
  /** Never write to Redis (`--shared-cache-readonly`). */
  readonly: boolean;
  /** Copy verified shared entries into the local tier. */
  promote: boolean;
  onWarning: (message: string) => void;
}

type Entry = { key: string; value: unknown; ttl?: number };

export class TieredKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  /** Verified shared entries, when they are not promoted (read-only verbs). */
  readonly #held = new Map<string, string>();

  constructor(
    readonly local: KeyvStoreAdapter,
    readonly shared: RedisTier,
    readonly options: TieredOptions,
  ) {
    super();
    local.on('error', (error: unknown) => this.emit('error', error));
  }

  /** keyv reads the dialect here to decide that the store can iterate (the local tier's). */
  get opts(): unknown {
    return this.local.opts;
  }
  get namespace(): string | undefined {
    return this.local.namespace;
  }
  set namespace(value: string | undefined) {
    this.local.namespace = value;
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return (await this.getMany<Value>([key]))[0] as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    const values = (await localGetMany(this.local, keys)) as unknown[];
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (values[i] !== undefined && values[i] !== null) continue;
      const held = this.#held.get(keys[i]);
      if (held !== undefined) values[i] = held;
      else missing.push(i);
    }
    if (missing.length === 0 || this.shared.down) return values as Array<StoredData<Value | undefined>>;
    // A blob's size entry comes in the same MGET: it bounds how far the blob may inflate (verify.ts).
    const sizeKeys = missing.map((i) => (keys[i].startsWith('blobs:') ? `blobinfo:${keys[i].slice('blobs:'.length)}` : undefined));
    const asked = [...missing.map((i) => keys[i]), ...sizeKeys.filter((key): key is string => key !== undefined)];
    const fetched = await this.shared.getMany(asked);
    const sizes = new Map<string, string | undefined>();
    asked.forEach((key, k) => k >= missing.length && sizes.set(key, fetched[k]));
    const good: { key: string; value: string }[] = [];
    // A promoted blob gets its local size entry too (its verified size), or GC and `cache info` would not see it.
    const sized: { key: string; value: string }[] = [];
    const now = Date.now();
    missing.forEach((i, k) => {
      const text = fetched[k];
      if (text === undefined) return;
      const sizeKey = sizeKeys[k];
      const onBlob = (bytes: number): void => void sized.push({ key: sizeKey!, value: JSON.stringify({ value: `${bytes},${now}` }) });
      const problem = checkSharedEntry(keys[i], text, { blobSize: sizeKey === undefined ? undefined : blobSizeOf(sizes.get(sizeKey)), onBlob });
      if (problem !== undefined) {
        this.options.onWarning(`shared cache ${this.shared.url.display}: ignored ${keys[i]} (${problem}); it is rebuilt here and never used or stored`);
        return;
      }
      values[i] = text;
      good.push({ key: keys[i], value: text });
    });
    if (good.length > 0) {
      // Sizes first, as the store writes them (a size entry without its blob is harmless; GC drops it).
      if (this.options.promote) await localSetMany(this.local, [...sized, ...good]);
      else for (const entry of good) this.#held.set(entry.key, entry.value);
    }
    return values as Array<StoredData<Value | undefined>>;
  }

  async has(key: string): Promise<boolean> {
    return (await this.hasMany([key]))[0];
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    const found = this.local.hasMany ? await this.local.hasMany(keys) : await Promise.all(keys.map(async (key) => (await this.local.get(key)) !== undefined));
    const missing = keys.filter((_, i) => !found[i]);
    if (missing.length === 0 || this.shared.down) return found;
    const values = await this.getMany(missing);
    const present = new Set(missing.filter((_, k) => values[k] !== undefined));
    return keys.map((key, i) => found[i] || present.has(key));
  }

  async set(key: string, value: unknown, ttl?: number): Promise<unknown> {
    return this.setMany([{ key, value, ttl }]);
  }

  async setMany(entries: Entry[]): Promise<void> {
    const result = await localSetMany(this.local, entries);
    if (!this.options.readonly) {
      await this.shared.setMany(entries.filter((e): e is { key: string; value: string } => typeof e.value === 'string'));
    }
    // Whatever the local adapter reports (the SQLite one returns one `true` per entry) is what keyv checks.
    return result as void;
  }

  async delete(key: string): Promise<boolean> {
    this.#held.delete(key);
    return this.local.delete(key);
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    for (const key of keys) this.#held.delete(key);
    if (this.local.deleteMany) return this.local.deleteMany(keys);
    return (await Promise.all(keys.map((key) => this.local.delete(key)))).some(Boolean);
  }

  async clear(): Promise<void> {
    this.#held.clear();
    await this.local.clear();
  }

  iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    if (!this.local.iterator) throw new Error('the local cache tier cannot list its keys');
    return this.local.iterator<Value>(namespace);
  }

  async disconnect(): Promise<void> {
    await this.local.disconnect?.();
  }
}

async function localGetMany(local: KeyvStoreAdapter, keys: string[]): Promise<unknown[]> {
  if (local.getMany) return local.getMany(keys);
  return Promise.all(keys.map((key) => local.get(key)));
}

async function localSetMany(local: KeyvStoreAdapter, entries: Entry[]): Promise<unknown> {
  if (local.setMany) return local.setMany(entries);
  for (const entry of entries) await local.set(entry.key, entry.value, entry.ttl);
  return entries.map(() => true);
}
