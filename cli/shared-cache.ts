/**
 * Which shared cache a verb uses: `--shared-cache URL`, else `MDPIPE_SHARED_CACHE`, else `sharedCache` in
 * the config. `run` reads and writes it (and copies what it fetched into the local cache); `status`,
 * `explain` and `run --dry-run` only read it and write nothing anywhere; `clean`, `cache gc` and
 * `cache info` never touch it (they are about this machine's cache; `cache info` names it).
 */
import type { Command } from 'commander';
import type { SharedTier } from '../cache/shared/open.js';
import type { ResolvedConfig } from '../config/load.js';

export const SHARED_CACHE_ENV = 'MDPIPE_SHARED_CACHE';

export interface SharedCacheFlags {
  sharedCache?: string;
  sharedCacheReadonly?: boolean;
  sharedCacheRequired?: boolean;
}

/** How a verb uses the shared cache: `run` writes through and keeps copies; `read` only looks. */
export type SharedCacheMode = 'run' | 'read';

export interface SharedCacheChoice {
  url: string;
  source: string;
  readonly: boolean;
  required: boolean;
  promote: boolean;
}

/** The URL and where it came from, or undefined when no shared cache is configured. */
export function chooseSharedCache(config: ResolvedConfig, flags: SharedCacheFlags, mode: SharedCacheMode): SharedCacheChoice | undefined {
  const env = process.env[SHARED_CACHE_ENV];
  const [url, source] = flags.sharedCache
    ? [flags.sharedCache, '--shared-cache']
    : env
      ? [env, SHARED_CACHE_ENV]
      : config.sharedCache
        ? [config.sharedCache, `sharedCache in ${config.file ?? 'the configuration'}`]
        : [undefined, ''];
  if (url === undefined) return undefined;
  return {
    url,
    source,
    readonly: mode === 'read' || (flags.sharedCacheReadonly ?? false),
    required: flags.sharedCacheRequired ?? false,
    promote: mode === 'run',
  };
}

/**
 * Opens the shared tier chosen for a verb (`chooseSharedCache`), or undefined when none is configured: the
 * one composition `openProject` and `watch` use. Loads the Redis client only then.
 * @throws as `openSharedTier` (a malformed URL; an unreachable server with --shared-cache-required)
 */
export async function openChosenTier(config: ResolvedConfig, flags: SharedCacheFlags, mode: SharedCacheMode, onWarning: (message: string) => void): Promise<SharedTier | undefined> {
  const shared = chooseSharedCache(config, flags, mode);
  if (!shared) return undefined;
  const { openSharedTier } = await import('../cache/shared/open.js');
  return openSharedTier({ ...shared, onWarning });
}

/** The `--shared-cache` options (all three on `run`; the URL alone on the read-only verbs). */
export function addSharedCacheOptions(command: Command, mode: SharedCacheMode): Command {
  command.option('--shared-cache <url>', `a shared cache on Redis: redis://[:password@]host:port[/db] or rediss://… (also ${SHARED_CACHE_ENV}, or "sharedCache" in the config)`);
  if (mode === 'run') {
    command
      .option('--shared-cache-readonly', 'use the shared cache but never write to it (for machines that must not publish results)')
      .option('--shared-cache-required', 'fail (exit 1) instead of warning and building locally when the shared cache cannot be reached');
  }
  return command;
}
