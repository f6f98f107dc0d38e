/**
 * Opens the local SQLite store with the shared Redis tier behind it (see tiered-adapter.ts). This and the
 * `tier` argument of `openDefaultStore` (and of `replaceDamagedStore`) are the whole hook: the store and
 * the engine do not know a shared cache exists.
 */
import { openDefaultStore, type StoreTier } from '../default-store.js';
import type { KeyvCacheStore } from '../keyv-store.js';
import { RedisTier } from './redis-tier.js';
import { parseRedisUrl } from './redis-url.js';
import { TieredKeyvAdapter } from './tiered-adapter.js';
import { SHARED_NAMESPACES } from './verify.js';

export interface SharedCacheOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** Where the URL came from (`--shared-cache`, `MDPIPE_SHARED_CACHE`, `sharedCache`), for errors. */
  source: string;
  /** Never write to the shared cache. */
  readonly?: boolean;
  /** Fail (exit 1) instead of warning and building locally when the shared cache cannot be used. */
  required?: boolean;
  /** Copy verified shared entries into the local cache (`run`); read-only verbs pass false. */
  promote?: boolean;
  /** Bound on each shared-cache call, ms (tests). */
  timeoutMs?: number;
  onWarning: (message: string) => void;
}

export interface SharedStore {
  store: KeyvCacheStore;
  tier: RedisTier;
}

/** The Redis tier, checked, and the hook that puts it behind any number of local stores in turn. */
export interface SharedTier {
  redis: RedisTier;
  /**
   * For `openDefaultStore` and `replaceDamagedStore`: its `close` leaves Redis open, so a damaged store
   * can be closed and replaced under the same tier; the caller closes `redis` after the last store.
   */
  storeTier: StoreTier;
}

/**
 * Checks the server once (so an unreachable cache is reported at the start) and returns the tier.
 * @throws SharedCacheUrlError for a malformed URL; SharedCacheUnavailableError when `required` and unreachable
 */
export async function openSharedTier(options: SharedCacheOptions): Promise<SharedTier> {
  const url = parseRedisUrl(options.url, options.source);
  const redis = new RedisTier({ url, required: options.required, onWarning: options.onWarning, timeoutMs: options.timeoutMs });
  try {
    await redis.check();
  } catch (error) {
    await redis.close();
    throw error;
  }
  const tiered = { readonly: options.readonly ?? false, promote: options.promote ?? true, onWarning: options.onWarning };
  const storeTier: StoreTier = {
    description: url.display,
    wrap: (namespace, local) => (SHARED_NAMESPACES.has(namespace) ? new TieredKeyvAdapter(local, redis, tiered) : local),
    close: async () => {},
  };
  return { redis, storeTier };
}

/**
 * Opens the tiered store in `cacheDir`; closing the store closes the tier too.
 * @throws as {@link openSharedTier}
 */
export async function openSharedStore(cacheDir: string, options: SharedCacheOptions): Promise<SharedStore> {
  const { redis, storeTier } = await openSharedTier(options);
  return { store: openDefaultStore(cacheDir, { ...storeTier, close: () => redis.close() }), tier: redis };
}
