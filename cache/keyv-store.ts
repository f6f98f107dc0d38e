/**
 * The cache store over keyv@5: records, blobs, blob sizes and stat memos in four keyv namespaces.
 *
 * Any keyv instance works (SQLite by default, a Map in tests, Redis or Postgres for a shared cache): the
 * store is given a factory that opens one keyv per namespace, and stores only strings and JSON values so
 * any keyv serializer copes. Blobs are kept as base64 text for that reason; a large blob (a published
 * dictionary.json, 3.4 MB) is deflated first (`deflate:` then the base64 of the deflated bytes), on the
 * thread pool, so the store writes a fifth of the bytes without holding up the engine. Its digest is still
 * that of the content, checked on read as for any blob.
 *
 * Crash safety does not depend on the backend having transactions: `putResults` writes blob sizes, then
 * blobs, then records, each as one `setMany`. A record is the commit marker; a crash leaves at worst
 * blobs without records (removed by GC), never a record without its blobs. Blobs are verified on read.
 *
 * A shared cache is another keyv factory, with no engine change, e.g. with `@keyv/redis`:
 *   new KeyvCacheStore({ description: 'redis://cache:6379',
 *     keyv: (namespace) => new Keyv({ store: new KeyvRedis('redis://cache:6379'), namespace }) })
 * Listing (GC, `clean`, `info`) needs a backend that can iterate its keys.
 */
import { promisify } from 'node:util';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import type { Keyv } from 'keyv';
import { sha256, type Digest } from './digest.js';
import { CacheStoreError, StoreCapabilityError, StoreReadError, StoreWriteError } from './errors.js';
import type { TaskRecord } from './record.js';
import type { BlobInfo, BlobReadResult, CacheStore, ResultBatch, StatMemo, StoreInfo } from './store.js';

/** The keyv namespaces the store uses. */
export const STORE_NAMESPACES = ['records', 'blobs', 'blobinfo', 'statmemo', 'index'] as const;
export type StoreNamespace = (typeof STORE_NAMESPACES)[number];

export interface KeyvCacheStoreOptions {
  /** Opens the keyv instance of one namespace (each must keep its keys apart from the others). */
  keyv: (namespace: StoreNamespace) => Keyv;
  /** Named in error messages (`sqlite:/path/cache.sqlite`, `redis://…`). */
  description: string;
  /** Gives space back after GC, where the backend can. */
  compact?: () => void | Promise<void>;
  /** Releases the backend after the keyv instances are disconnected. */
  close?: () => void | Promise<void>;
}

export class KeyvCacheStore implements CacheStore {
  readonly #records: Keyv;
  readonly #blobs: Keyv;
  readonly #blobInfo: Keyv;
  readonly #statMemo: Keyv;
  readonly #index: Keyv;
  readonly #options: KeyvCacheStoreOptions;
  /** Blob texts being encoded since `prepareBlobs`, by the bytes they encode (dropped with the bytes). */
  readonly #encoding = new WeakMap<Uint8Array, Promise<string>>();

  constructor(options: KeyvCacheStoreOptions) {
    this.#options = options;
    this.#records = this.#open('records');
    this.#blobs = this.#open('blobs');
    this.#blobInfo = this.#open('blobinfo');
    this.#statMemo = this.#open('statmemo');
    this.#index = this.#open('index');
  }

  #open(namespace: StoreNamespace): Keyv {
    const keyv = this.#options.keyv(namespace);
    // keyv reports a failed write as `false` plus an `error` event, which each write catches for itself
    // (`#writing`). This listener only keeps an error emitted outside a write (a lost connection, say)
    // from being thrown by the emitter as unhandled.
    keyv.on('error', () => {});
    return keyv;
  }

  /**
   * Runs one write through keyv and returns the first `error` event the instance emitted meanwhile. Each
   * write listens for itself, so one operation neither clears nor takes another's error; two writes at
   * once on one namespace may both see an error, so it fails both rather than neither.
   */
  async #writing<T>(keyv: Keyv, write: () => Promise<T>): Promise<{ result: T; emitted: unknown }> {
    let emitted: unknown;
    const listen = (error: unknown): void => {
      emitted ??= error;
    };
    keyv.on('error', listen);
    try {
      return { result: await write(), emitted };
    } finally {
      keyv.off('error', listen);
    }
  }

  get description(): string {
    return this.#options.description;
  }

  /** A read through keyv: a backend failure (a damaged database file, an I/O error) becomes a StoreReadError. */
  async #read<T>(what: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof CacheStoreError) throw error;
      throw new StoreReadError(what, this.description, error);
    }
  }

  async #setMany(keyv: Keyv, what: string, entries: { key: string; value: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    let written: { result: unknown; emitted: unknown };
    try {
      written = await this.#writing(keyv, () => keyv.setMany(entries));
    } catch (error) {
      throw new StoreWriteError(what, this.description, error);
    }
    const { result, emitted } = written;
    if (emitted !== undefined || (Array.isArray(result) && result.some((ok) => ok === false))) {
      throw new StoreWriteError(what, this.description, emitted);
    }
  }

  async #deleteMany(keyv: Keyv, what: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    let emitted: unknown;
    try {
      ({ emitted } = await this.#writing(keyv, () => keyv.deleteMany([...keys])));
    } catch (error) {
      throw new StoreWriteError(`deletion of ${what}`, this.description, error);
    }
    if (emitted !== undefined) throw new StoreWriteError(`deletion of ${what}`, this.description, emitted);
  }

  async #entries(keyv: Keyv, operation: string): Promise<[string, unknown][]> {
    return this.#read(operation, () => this.#listEntries(keyv, operation));
  }

  async #listEntries(keyv: Keyv, operation: string): Promise<[string, unknown][]> {
    const entries: [string, unknown][] = [];
    if (keyv.iterator !== undefined) {
      for await (const [key, value] of keyv.iterator(keyv.namespace)) entries.push([key as string, value]);
      return entries;
    }
    // keyv only wires `iterator` for adapters it knows by name; any adapter that can iterate will do.
    const store = keyv.store as { iterator?: (namespace?: string) => AsyncIterable<[string, unknown]> };
    if (typeof store.iterator !== 'function') throw new StoreCapabilityError(operation, this.description, 'list its keys');
    const prefix = keyv.namespace ? `${keyv.namespace}:` : '';
    for await (const [key, raw] of store.iterator(keyv.namespace)) {
      if (!key.startsWith(prefix)) continue;
      const data = (typeof raw === 'string' && keyv.deserialize ? await keyv.deserialize(raw) : raw) as { value?: unknown } | undefined;
      if (data?.value !== undefined) entries.push([key.slice(prefix.length), data.value]);
    }
    return entries;
  }

  async getRecords(ids: readonly string[]): Promise<(TaskRecord | undefined)[]> {
    if (ids.length === 0) return [];
    return (await this.#read('task records', () => this.#records.getMany<TaskRecord>([...ids]))) as (TaskRecord | undefined)[];
  }

  /**
   * Starts deflating the large ones on the thread pool. An export's files (5.9 MB) took ~30 ms there, which
   * the engine waited out at its last commit; started when the task returns them, it runs while the engine
   * hashes and publishes them.
   */
  prepareBlobs(bytes: readonly Uint8Array[]): void {
    for (const b of bytes) {
      if (b.byteLength < DEFLATE_FROM_BYTES || this.#encoding.has(b)) continue;
      const text = encodeBlob(b);
      text.catch(() => {}); // a failure is the `putResults` that awaits it
      this.#encoding.set(b, text);
    }
  }

  async putResults(batch: ResultBatch): Promise<void> {
    const now = Date.now();
    const blobs = dedupeBlobs(batch.blobs);
    const texts = await Promise.all(blobs.map((blob) => this.#encoding.get(blob.bytes) ?? encodeBlob(blob.bytes)));
    await this.#setMany(
      this.#blobInfo,
      'blob sizes',
      blobs.map((blob) => ({ key: blob.digest, value: `${blob.bytes.byteLength},${now}` })),
    );
    await this.#setMany(
      this.#blobs,
      'blobs',
      blobs.map((blob, k) => ({ key: blob.digest, value: texts[k] })),
    );
    await this.putRecords(batch.records);
  }

  async putRecords(records: readonly TaskRecord[]): Promise<void> {
    await this.#setMany(this.#records, 'task records', records.map((record) => ({ key: record.id, value: record })));
  }

  async deleteRecords(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // The index restates records: drop it first, so it never vouches for a record that is gone.
    await this.#dropIndex();
    await this.#deleteMany(this.#records, 'task records', ids);
  }

  async listRecords(): Promise<TaskRecord[]> {
    return (await this.#entries(this.#records, 'listing task records')).map(([, value]) => value as TaskRecord);
  }

  async hasBlobs(digests: readonly Digest[]): Promise<boolean[]> {
    if (digests.length === 0) return [];
    return this.#read('blob index', () => this.#blobs.hasMany([...digests]));
  }

  async getBlobs(digests: readonly Digest[]): Promise<BlobReadResult> {
    const result: BlobReadResult = { found: new Map(), missing: [], corrupt: [] };
    const unique = [...new Set(digests)];
    if (unique.length === 0) return result;
    const texts = (await this.#read('blobs', () => this.#blobs.getMany<string>(unique))) as (string | undefined)[];
    unique.forEach((digest, i) => {
      const text = texts[i];
      if (typeof text !== 'string') {
        result.missing.push(digest);
        return;
      }
      const bytes = decodeBlob(text);
      if (bytes !== undefined && sha256(bytes) === digest) result.found.set(digest, bytes);
      else result.corrupt.push(digest);
    });
    if (result.corrupt.length > 0) await this.deleteBlobs(result.corrupt);
    return result;
  }

  async deleteBlobs(digests: readonly Digest[]): Promise<void> {
    if (digests.length === 0) return;
    await this.#dropIndex();
    // Blobs before their size entries: listBlobs must never miss a stored blob.
    await this.#deleteMany(this.#blobs, 'blobs', digests);
    await this.#deleteMany(this.#blobInfo, 'blob sizes', digests);
  }

  async listBlobs(): Promise<BlobInfo[]> {
    return (await this.#entries(this.#blobInfo, 'listing blobs')).map(([digest, value]) => {
      const [size, storedAt] = String(value).split(',');
      return { digest, size: Number(size), storedAt: Number(storedAt) };
    });
  }

  // Stat memos are grouped by directory (one keyv entry per folder, {file name: encoded memo}): inputs
  // come a handful per folder, and per-entry costs dominate a no-op over 20,000 files (measured: ~3 µs
  // per SQLite row plus one JSON parse each), so six times fewer entries is six times less of that.

  async getStatMemos(paths: readonly string[]): Promise<(StatMemo | undefined)[]> {
    if (paths.length === 0) return [];
    const dirs = new Array<string>(paths.length);
    const names = new Array<string>(paths.length);
    for (let k = 0; k < paths.length; k++) [dirs[k], names[k]] = splitPath(paths[k]);
    const groups = await this.#memoGroups(dirs);
    const memos = new Array<StatMemo | undefined>(paths.length);
    for (let k = 0; k < paths.length; k++) {
      const text = groups.get(dirs[k])?.[names[k]];
      memos[k] = typeof text === 'string' ? decodeStatMemo(text) : undefined;
    }
    return memos;
  }

  async #memoGroups(dirs: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const unique = [...new Set(dirs)];
    const values = (await this.#read('stat memos', () => this.#statMemo.getMany<Record<string, string>>(unique))) as (Record<string, string> | undefined)[];
    const groups = new Map<string, Record<string, string>>();
    unique.forEach((dir, k) => {
      const value = values[k];
      if (value && typeof value === 'object') groups.set(dir, value);
    });
    return groups;
  }

  async putStatMemos(entries: ReadonlyArray<readonly [string, StatMemo]>): Promise<void> {
    if (entries.length === 0) return;
    const groups = await this.#memoGroups(entries.map(([path]) => splitPath(path)[0]));
    const changed = new Set<string>();
    for (const [path, memo] of entries) {
      const [dir, name] = splitPath(path);
      let group = groups.get(dir);
      if (!group) groups.set(dir, (group = {}));
      group[name] = encodeStatMemo(memo);
      changed.add(dir);
    }
    await this.#setMany(this.#statMemo, 'stat memos', [...changed].map((dir) => ({ key: dir, value: groups.get(dir) })));
  }

  async deleteStatMemos(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    const groups = await this.#memoGroups(paths.map((path) => splitPath(path)[0]));
    const changed = new Set<string>();
    for (const path of paths) {
      const [dir, name] = splitPath(path);
      const group = groups.get(dir);
      if (group && name in group) {
        delete group[name];
        changed.add(dir);
      }
    }
    const emptied = [...changed].filter((dir) => Object.keys(groups.get(dir)!).length === 0);
    const rewritten = [...changed].filter((dir) => Object.keys(groups.get(dir)!).length > 0);
    await this.#deleteMany(this.#statMemo, 'stat memos', emptied);
    await this.#setMany(this.#statMemo, 'stat memos', rewritten.map((dir) => ({ key: dir, value: groups.get(dir) })));
  }

  async listStatMemoPaths(): Promise<string[]> {
    const paths: string[] = [];
    for (const [dir, group] of await this.#entries(this.#statMemo, 'listing stat memos')) {
      for (const name of Object.keys(group as Record<string, string>)) paths.push(joinPath(dir, name));
    }
    return paths;
  }

  async getIndex(name: string): Promise<string | undefined> {
    const text = await this.#read('the partition index', () => this.#index.get<string>(name));
    return typeof text === 'string' ? text : undefined;
  }

  async putIndex(name: string, text: string): Promise<void> {
    await this.#setMany(this.#index, 'the partition index', [{ key: name, value: text }]);
  }

  async #dropIndex(): Promise<void> {
    let emitted: unknown;
    try {
      ({ emitted } = await this.#writing(this.#index, () => this.#index.clear()));
    } catch (error) {
      throw new StoreWriteError('deletion of the partition index', this.description, error);
    }
    if (emitted !== undefined) throw new StoreWriteError('deletion of the partition index', this.description, emitted);
  }

  async info(): Promise<StoreInfo> {
    const records = (await this.#entries(this.#records, 'counting records')).length;
    const blobs = await this.listBlobs();
    return { records, blobs: blobs.length, bytes: blobs.reduce((sum, blob) => sum + blob.size, 0) };
  }

  async clear(): Promise<void> {
    // Records first: a record must never outlive its blobs.
    for (const keyv of [this.#index, this.#records, this.#blobs, this.#blobInfo, this.#statMemo]) await keyv.clear();
  }

  async compact(): Promise<void> {
    await this.#options.compact?.();
  }

  async close(): Promise<void> {
    for (const keyv of [this.#index, this.#records, this.#blobs, this.#blobInfo, this.#statMemo]) await keyv.disconnect();
    await this.#options.close?.();
  }
}

/** Blobs from this size on are stored deflated (smaller ones gain little and cost a thread-pool trip). */
export const DEFLATE_FROM_BYTES = 64 * 1024;
/** The prefix of a deflated blob's stored text. */
const DEFLATED = 'deflate:';
const deflateRawAsync = promisify(deflateRaw);
/**
 * zlib's output chunk, for deflating and inflating blobs. With the default 16 KiB, deflating an export's
 * three large files (5.2 MB) on the thread pool came back in ~60 chunks, each a turn of this thread and a
 * copy, and the chunks were then joined: 35-40 ms wall and 17-19 ms of this thread, against 22-25 ms and
 * 7-8 ms with 1 MiB chunks (3 runs each). Most deflated blobs fit one chunk.
 */
const ZLIB_CHUNK = 1024 * 1024;

/** A blob as stored text: base64, or `deflate:` + the base64 of its deflated bytes (see the header). */
async function encodeBlob(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength < DEFLATE_FROM_BYTES) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  // Level 1: on a dictionary.json it measured 6.9x smaller in 24 ms, against 9.4x in 62 ms at level 6.
  return DEFLATED + (await deflateRawAsync(bytes, { level: 1, chunkSize: ZLIB_CHUNK })).toString('base64');
}

/** The bytes of a stored blob text, or undefined when deflated data does not inflate (damage). */
export function decodeBlob(text: string): Buffer | undefined {
  const bytes = decodeBlobWithin(text, 2 ** 31 - 1);
  return typeof bytes === 'string' ? undefined : bytes;
}

/**
 * A stored blob's bytes, a deflated one inflated no further than `limit` bytes (the shared cache's bound,
 * cache/shared/verify.ts: a Redis anyone on the team can write is not trusted with 2 GiB).
 */
export function decodeBlobWithin(text: string, limit: number): Buffer | 'too large' | 'damaged' {
  if (!text.startsWith(DEFLATED)) return Buffer.from(text, 'base64');
  try {
    return inflateRawSync(Buffer.from(text.slice(DEFLATED.length), 'base64'), { maxOutputLength: limit, chunkSize: ZLIB_CHUNK });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'too large' : 'damaged';
  }
}

function dedupeBlobs(blobs: ResultBatch['blobs']): ResultBatch['blobs'] {
  const seen = new Map<Digest, ResultBatch['blobs'][number]>();
  for (const blob of blobs) seen.set(blob.digest, blob);
  return [...seen.values()];
}

/** Directory and file name of a path, split at the last separator (either kind, for Windows paths). */
function splitPath(path: string): [string, string] {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return [path.slice(0, cut + 1), path.slice(cut + 1)];
}

function joinPath(dir: string, name: string): string {
  return dir + name;
}

/**
 * A stat memo as one short string (`2,size,mtimeMs,ctimeMs,ino,digest`): cheap to parse 20,000 of. The
 * leading 2 is the layout (a number prints as the shortest text that reads back to it, so the times keep
 * every bit); the first layout (5 fields, times in ns) reads as no memo, so such a file is hashed once more.
 */
export function encodeStatMemo(memo: StatMemo): string {
  return '2,' + memo.size + ',' + memo.mtimeMs + ',' + memo.ctimeMs + ',' + memo.ino + ',' + memo.digest;
}

export function decodeStatMemo(text: string): StatMemo | undefined {
  const parts = text.split(',');
  if (parts.length !== 6 || parts[0] !== '2') return undefined;
  const [size, mtimeMs, ctimeMs, ino] = [parts[1], parts[2], parts[3], parts[4]].map(Number);
  if (!(Number.isFinite(size) && Number.isFinite(mtimeMs) && Number.isFinite(ctimeMs) && Number.isFinite(ino))) return undefined;
  return { size, mtimeMs, ctimeMs, ino, digest: parts[5] };
}
