/**
 * The shared tier: one `@keyv/redis` adapter (one node-redis client) over a team's Redis, with the fault
 * policy of a cache that is a convenience, not a dependency:
 *
 * - every call is bounded ({@link SHARED_TIMEOUT_MS}): a server that is gone, or alive but not answering
 *   (SIGSTOP, a full network buffer), costs at most that once, never a hung run;
 * - the first failure marks the tier down for the rest of the process and gives ONE warning naming
 *   host:port (never the password); later calls return at once as misses and skipped writes;
 * - with `required`, a failure throws instead (a store error: exit 1).
 *
 * The client does not reconnect (`reconnectStrategy: false`) and refuses commands while disconnected
 * (`disableOfflineQueue`): a server that died mid-run makes the next call fail at once, not queue.
 * Keys are prefixed `mdpipe:r<RECORD_SCHEMA>::` so a record layout change never reads the old entries.
 *
 * It also counts round trips and bytes, which docs/SCALING.md quotes.
 */
import * as keyvRedisModule from '@keyv/redis';
import { createClient, type default as KeyvRedis } from '@keyv/redis';
import { RECORD_SCHEMA } from '../record.js';
import { CacheStoreError } from '../errors.js';
import { describeFailure, type SharedCacheUrl } from './redis-url.js';

/** Give up on one shared-cache call (connect included) after this long: the "within 5 s". */
export const SHARED_TIMEOUT_MS = 4000;
/** Connecting gets less, so a connect plus the first command still fits in the bound above. */
const CONNECT_TIMEOUT_MS = 2000;

/** Keys per MGET: ~1,000 entries of ~1.5 kB is ~1.5 MB, a few milliseconds of Redis time. */
const GET_CHUNK = 1000;

/** The key prefix of every entry: bumping the record schema starts a fresh namespace. */
export const SHARED_KEY_PREFIX = `mdpipe:r${RECORD_SCHEMA}`;

/** The shared cache failed and `--shared-cache-required` was given. */
export class SharedCacheUnavailableError extends CacheStoreError {
  constructor(display: string, hostPort: string, reason: string) {
    super(
      'store-open',
      `the shared cache ${display} is required (--shared-cache-required) but ${hostPort} failed: ${reason}\n` +
        `  fix: check that Redis runs at ${hostPort} and the password is right, or drop --shared-cache-required to build with the local cache alone`,
    );
  }
}

export interface RedisTierOptions {
  url: SharedCacheUrl;
  /** Throw on failure instead of warning once and going on locally. */
  required?: boolean;
  onWarning: (message: string) => void;
  timeoutMs?: number;
}

/** Counters since the tier was opened. */
export interface RedisTierStats {
  /** Calls that reached Redis (a batched get or a MULTI of sets is one). */
  roundTrips: number;
  keysRead: number;
  keysWritten: number;
  bytesRead: number;
  bytesWritten: number;
}

/**
 * The adapter class. In the CommonJS bundle (bin/bundle.mjs) esbuild's interop hands the whole CommonJS
 * exports object to a default import, so the class is one `.default` further down there.
 */
const KeyvRedisClass: typeof KeyvRedis =
  (keyvRedisModule.default as unknown as { default?: typeof KeyvRedis }).default ?? keyvRedisModule.default;

export class RedisTier {
  readonly url: SharedCacheUrl;
  readonly stats: RedisTierStats = { roundTrips: 0, keysRead: 0, keysWritten: 0, bytesRead: 0, bytesWritten: 0 };
  readonly #adapter: KeyvRedis<string>;
  readonly #options: RedisTierOptions;
  #down = false;
  #cause: unknown;

  constructor(options: RedisTierOptions) {
    this.#options = options;
    this.url = options.url;
    const { url } = options;
    const client = createClient({
      url: url.connect,
      disableOfflineQueue: true,
      socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false, tls: url.tls || undefined } as never,
    });
    // node-redis emits 'error' on connection loss; without a listener Node would crash the process.
    client.on('error', () => {});
    this.#adapter = new KeyvRedisClass<string>(client as never, {
      namespace: SHARED_KEY_PREFIX,
      throwOnErrors: true,
      throwOnConnectError: true,
      // No `connectionTimeout` here: the adapter's timer is never cleared and would hold the process 2 s
      // after the run; the socket's connectTimeout and our own bound (#call) cover it.
    });
    // The adapter emits the real cause (ECONNREFUSED, WRONGPASS) before throwing its generic error.
    this.#adapter.on('error', (error: unknown) => {
      this.#cause = error;
    });
  }

  /** True once a call failed: the rest of the run is local. */
  get down(): boolean {
    return this.#down;
  }

  /** Connects and pings; false (after the one warning) when the server cannot be reached. */
  async check(): Promise<boolean> {
    return (await this.#call(async () => (await this.#adapter.getClient()).ping())) !== undefined;
  }

  /**
   * Values by key; `undefined` for absent keys, and for every key once the tier is down. One MGET per
   * GET_CHUNK keys: a full-size second project reads 6,784 keys (9.9 MB) at once, and at a million
   * checkpoints one MGET would be gigabytes, blocking Redis for every other client while it is built.
   */
  async getMany(keys: readonly string[]): Promise<(string | undefined)[]> {
    const out: (string | undefined)[] = [];
    for (let i = 0; i < keys.length; i += GET_CHUNK) out.push(...(await this.#getChunk(keys.slice(i, i + GET_CHUNK))));
    return out;
  }

  async #getChunk(keys: readonly string[]): Promise<(string | undefined)[]> {
    if (keys.length === 0 || this.#down) return keys.map(() => undefined);
    const values = await this.#call(() => this.#adapter.getMany([...keys]));
    if (values === undefined) return keys.map(() => undefined);
    this.stats.roundTrips++;
    for (const value of values) {
      if (typeof value === 'string') {
        this.stats.keysRead++;
        this.stats.bytesRead += value.length;
      }
    }
    return values.map((value) => (typeof value === 'string' ? value : undefined));
  }

  async hasMany(keys: readonly string[]): Promise<boolean[]> {
    if (keys.length === 0 || this.#down) return keys.map(() => false);
    const found = await this.#call(() => this.#adapter.hasMany([...keys]));
    if (found === undefined) return keys.map(() => false);
    this.stats.roundTrips++;
    return found;
  }

  /** One MULTI for the batch; skipped once the tier is down. */
  async setMany(entries: ReadonlyArray<{ key: string; value: string }>): Promise<void> {
    if (entries.length === 0 || this.#down) return;
    const done = await this.#call(async () => {
      await this.#adapter.setMany(entries.map((e) => ({ key: e.key, value: e.value })));
      return true;
    });
    if (done === undefined) return;
    this.stats.roundTrips++;
    this.stats.keysWritten += entries.length;
    for (const entry of entries) this.stats.bytesWritten += entry.value.length;
  }

  /** Deletes keys in Redis (tests; the engine never deletes shared entries). */
  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length > 0 && !this.#down) await this.#call(() => this.#adapter.deleteMany([...keys]));
  }

  async close(): Promise<void> {
    try {
      await this.#adapter.disconnect(this.#down);
    } catch {
      // Closing a client that already lost its server: nothing left to release.
    }
  }

  /** Runs one call with the time bound; on failure, the one warning (or the required error). */
  async #call<T>(body: () => Promise<T>): Promise<T | undefined> {
    const timeoutMs = this.#options.timeoutMs ?? SHARED_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      return await Promise.race([body(), timeout]);
    } catch (error) {
      this.#fail(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    const { url } = this.#options;
    const generic = error instanceof Error && /not connected or has failed to connect/.test(error.message);
    const reason = describeFailure(generic && this.#cause !== undefined ? this.#cause : error, url);
    // Drop the connection at once: a half-open socket must not keep the process alive after the run.
    void this.#adapter.disconnect(true).catch(() => {});
    if (this.#options.required) throw new SharedCacheUnavailableError(url.display, url.hostPort, reason);
    this.#options.onWarning(`shared cache ${url.hostPort} unavailable (${reason}); building with the local cache only`);
  }
}
