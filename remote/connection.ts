/**
 * BullMQ's connection options (ioredis) from a queue URL parsed like the shared cache's
 * (`cache/shared/redis-url.ts`): same syntax, same rule that the password is never printed.
 */
import type { ConnectionOptions } from 'bullmq';
import type { SharedCacheUrl } from '../cache/shared/redis-url.js';

/**
 * @param giveUp the coordinator's bound: stop reconnecting once the connection has been down `afterMs`
 *   and call `then` (a run must end, not wait for ever); without it, ioredis retries for ever as BullMQ
 *   sets it up (a worker outlives a Redis restart)
 */
export function connectionOptions(url: SharedCacheUrl, giveUp?: { afterMs: number; then: () => void }): ConnectionOptions {
  let downSince = 0;
  return {
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username ? { username: url.username } : {}),
    ...(url.password ? { password: url.password } : {}),
    ...(url.tls ? { tls: {} } : {}),
    connectTimeout: giveUp?.afterMs ?? 3_000,
    ...(giveUp && {
      // ioredis counts attempts from 1 after each loss; null ends the client, failing its pending commands.
      retryStrategy: (times: number): number | null => {
        if (times === 1) downSince = Date.now();
        if (Date.now() - downSince < giveUp.afterMs) return 250;
        giveUp.then();
        return null;
      },
    }),
  };
}

/** `promise`, or a rejection naming `what` after `ms`. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
