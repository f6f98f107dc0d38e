/**
 * Typed errors of the cache store. Each says what failed, where, and what to do about it.
 */

/** Base class: `code` is stable for programs, the message is for people. */
export class CacheStoreError extends Error {
  constructor(
    readonly code: 'store-write' | 'store-capability' | 'store-read' | 'store-open',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The backend refused or failed a write. */
export class StoreWriteError extends CacheStoreError {
  constructor(what: string, store: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super(
      'store-write',
      `could not write ${what} to the cache store (${store})${reason}. ` +
        'Check that the cache directory is writable and has free space; the run can be repeated safely.',
      { cause },
    );
  }
}

/** The backend cannot do something an operation needs (listing keys, say). */
export class StoreCapabilityError extends CacheStoreError {
  constructor(operation: string, store: string, missing: string) {
    super(
      'store-capability',
      `${operation} needs a cache store that can ${missing}, and ${store} cannot. ` +
        'Use a keyv adapter with iterator support (the default SQLite store, Redis, Postgres, or a Map).',
    );
  }
}

/**
 * What to do about a failing store, from the backend's error code (SQLite's, or errno for a file store).
 * The cache only holds results mdpipe can rebuild, so deleting a damaged one is always safe.
 */
export function storeFix(cause: unknown, store: string): string {
  const code = String((cause as { code?: unknown } | undefined)?.code ?? '');
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return `the cache store (${store}) is damaged: delete it and run again; it only holds results mdpipe can rebuild`;
  }
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC' || code === 'EDQUOT') {
    return 'the disk holding the cache is full: free some space and run again; nothing already built is lost';
  }
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return 'the cache cannot be written by this user: make the cache directory and its files writable (chmod or chown), or point cacheDir at a writable folder';
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') return 'the disk reported an I/O error: check the disk holding the cache';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'another process holds the cache database: wait for it and run again';
  return 'check that the cache directory is readable and writable; if the store is damaged, delete it (it only holds results mdpipe can rebuild)';
}

/** True if `error` (or an error it was caused by) is a backend's report of a damaged database file. */
export function isDamagedStoreError(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (/^SQLITE_(CORRUPT|NOTADB)/.test(String((e as { code?: unknown }).code ?? ''))) return true;
  }
  return false;
}

/** The backend failed a read (a damaged database file, an I/O error). */
export class StoreReadError extends CacheStoreError {
  constructor(what: string, store: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super('store-read', `could not read ${what} from the cache store (${store})${reason}\n  fix: ${storeFix(cause, store)}`, { cause });
  }
}

/** The store could not be opened (a read-only or full disk, a file that is not a database). */
export class StoreOpenError extends CacheStoreError {
  constructor(store: string, cause?: unknown) {
    const reason = cause instanceof Error ? `: ${cause.message}` : '';
    super('store-open', `could not open the cache store (${store})${reason}\n  fix: ${storeFix(cause, store)}`, { cause });
  }
}
