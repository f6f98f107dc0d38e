/**
 * BullMQ's connection options (ioredis) from a queue URL parsed like the shared cache's
 * (`cache/shared/redis-url.ts`): same syntax, same rule that the password is never printed.
 */
import type { ConnectionOptions } from 'bullmq';
import type { SharedCacheUrl } from '../cache/shared/redis-url.js';

export function connectionOptions(url: SharedCacheUrl): ConnectionOptions {
  return {
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username ? { username: url.username } : {}),
    ...(url.password ? { password: url.password } : {}),
    ...(url.tls ? { tls: {} } : {}),
    connectTimeout: 3_000,
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
