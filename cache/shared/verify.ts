/**
 * The check every entry fetched from the shared cache passes before it is used or copied into the local
 * cache. A blob must hash to the digest it is stored under (the same check `KeyvCacheStore.getBlobs` makes
 * on local blobs, applied before the bytes ever reach the local store); a record must be a record of this
 * schema for the task id it is stored under; a blob size entry must be two numbers.
 *
 * Entries are checked in the form the tier sees them: keyv's serialized text (`{"value": ...}`, plain
 * JSON: see default-store.ts) under `namespace:key`.
 *
 * What no check can catch: a well-formed record whose output digest names another well-formed blob. The
 * engine compares the record's key with the key it computed, so such a record can only be served for the
 * exact inputs it names; trusting the shared cache's map from key to output is inherent to any remote
 * cache (Bazel's and Nx's alike), and is why writers can be restricted with `--shared-cache-readonly`.
 */
import { isDigest, sha256 } from '../digest.js';
import { decodeBlobWithin } from '../keyv-store.js';
import { RECORD_SCHEMA } from '../record.js';

/** Namespaces (see `STORE_NAMESPACES`) that go to the shared cache; stat memos and the index stay local. */
export const SHARED_NAMESPACES: ReadonlySet<string> = new Set(['records', 'blobs', 'blobinfo']);

/**
 * The most a blob fetched from the shared cache may inflate to when no size entry says otherwise. The
 * largest blob mdpipe writes for the published collections is a dictionary.json of 3.4 MB; 256 MiB leaves
 * room for collections ~70x larger while a deflate bomb (zlib inflates ~1,000x: 512 MB of Redis text
 * would be ~390 GB) costs at most this much memory before it is refused.
 */
export const SHARED_BLOB_CAP = 256 * 2 ** 20;

export interface CheckOptions {
  /**
   * The size in bytes the blob's size entry (`blobinfo`, written before the blob) gives it: the blob may
   * not inflate past it (nor past {@link SHARED_BLOB_CAP}, since a hostile writer writes both entries).
   */
  blobSize?: number;
  /** Told the byte size of a blob that passed (what its local size entry then says). */
  onBlob?: (bytes: number) => void;
}

/** The size a `blobinfo` entry (`"<bytes>,<stored at>"`, keyv's serialized text) gives, if it is one. */
export function blobSizeOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    const value = (JSON.parse(text) as { value?: unknown }).value;
    const match = typeof value === 'string' ? /^(\d+),\d+$/.exec(value) : null;
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Why an entry was refused, or `undefined` when it passed. */
export function checkSharedEntry(prefixedKey: string, text: string, options: CheckOptions = {}): string | undefined {
  const cut = prefixedKey.indexOf(':');
  const namespace = prefixedKey.slice(0, cut);
  const key = prefixedKey.slice(cut + 1);
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    return 'not valid JSON';
  }
  if (namespace === 'blobs') {
    if (typeof value !== 'string') return 'not a stored blob';
    const limit = Math.max(1, Math.min(options.blobSize ?? SHARED_BLOB_CAP, SHARED_BLOB_CAP));
    const bytes = decodeBlobWithin(value, limit);
    if (bytes === 'damaged') return 'its compressed bytes do not inflate';
    if (bytes === 'too large') return `it inflates past ${limit} bytes (${limit === options.blobSize ? 'the size its size entry gives' : 'the cap on a shared blob'})`;
    if (sha256(bytes) !== key) return 'its content does not match its SHA-256 digest';
    options.onBlob?.(bytes.byteLength);
    return undefined;
  }
  if (namespace === 'records') {
    const record = value as { schema?: unknown; id?: unknown; key?: unknown; output?: { digest?: unknown; files?: unknown } } | null;
    if (typeof record !== 'object' || record === null) return 'not a task record';
    if (record.schema !== RECORD_SCHEMA) return `record schema ${String(record.schema)}, not ${RECORD_SCHEMA}`;
    if (record.id !== key) return `a record of ${String(record.id)}, stored under ${key}`;
    if (!isDigest(record.key) || !isDigest(record.output?.digest) || typeof record.output?.files !== 'object' || record.output.files === null) {
      return 'a record without a valid key or output digest';
    }
    const files = Object.values(record.output.files as Record<string, unknown>);
    return files.every(isDigest) ? undefined : 'a record whose published files have invalid digests';
  }
  if (namespace === 'blobinfo') return typeof value === 'string' && /^\d+,\d+$/.test(value) ? undefined : 'not a blob size entry';
  return `namespace "${namespace}" is not shared`;
}
