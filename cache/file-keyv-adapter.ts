/**
 * A keyv@5 store adapter keeping one file per key, written crash-safely (temporary name, then rename).
 *
 * Kept as the measured alternative to the SQLite adapter (see the figures in `sqlite-keyv-adapter.ts`,
 * produced by `bench/engine-scale.ts`): it is slower for the engine's many small entries, but has no native
 * dependency and suits a store directory shared over a network file system, where SQLite's locking is
 * unreliable. Pass it to `KeyvCacheStore` through a keyv factory like any other keyv store.
 *
 * A file is named by the SHA-256 of its key (keys are arbitrary strings, often paths); its content is the
 * key, a newline, then the value, so `iterator` can give keys back.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { sha256 } from './digest.js';

export class FileKeyvAdapter extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { dialect: 'file'; url: string };
  namespace?: string;

  /** @param dir directory holding the entries (created if absent); may be shared by several namespaces. */
  constructor(readonly dir: string) {
    super();
    mkdirSync(dir, { recursive: true });
    this.opts = { dialect: 'file', url: `file://${dir}` };
  }

  #path(key: string): string {
    return join(this.dir, sha256(key));
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    try {
      const text = await readFile(this.#path(key), 'utf8');
      return text.slice(text.indexOf('\n') + 1) as StoredData<Value>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key)));
  }
  async set(key: string, value: unknown): Promise<boolean> {
    if (typeof value !== 'string') throw new TypeError(`file keyv adapter: the value for "${key}" is not a string`);
    const target = this.#path(key);
    const temporary = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await writeFile(temporary, `${key}\n${value}`);
    await rename(temporary, target);
    return true;
  }
  async setMany(values: Array<{ key: string; value: unknown }>): Promise<void> {
    const results = await Promise.all(values.map((entry) => this.set(entry.key, entry.value)));
    return results as unknown as void;
  }
  async delete(key: string): Promise<boolean> {
    try {
      await rm(this.#path(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }
  async deleteMany(keys: string[]): Promise<boolean> {
    const results = await Promise.all(keys.map((key) => this.delete(key)));
    return results.some(Boolean);
  }
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }
  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((key) => this.has(key)));
  }
  async clear(): Promise<void> {
    for await (const [key] of this.iterator()) await this.delete(key as string);
  }
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const prefix = `${namespace ?? this.namespace ?? ''}${namespace ?? this.namespace ? ':' : ''}`;
    for (const name of await readdir(this.dir)) {
      if (name.includes('.tmp-')) continue;
      let text: string;
      try {
        text = await readFile(join(this.dir, name), 'utf8');
      } catch {
        continue;
      }
      const newline = text.indexOf('\n');
      const key = text.slice(0, newline);
      if (key.startsWith(prefix)) yield [key, text.slice(newline + 1) as Awaited<Value>];
    }
  }
  async disconnect(): Promise<void> {}
}
