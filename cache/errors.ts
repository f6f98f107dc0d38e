/**
 * Typed errors of the cache store. Each says what failed, where, and what to do about it.
 */

/** Base class: `code` is stable for programs, the message is for people. */
export class CacheStoreError extends Error {
  constructor(
    readonly code: 'store-write' | 'store-capability' | 'store-read',
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
