/**
 * A shared cache's address: `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS). Parsed once,
 * so everything that names the cache to a person (warnings, errors, `cache info`, reports) uses
 * {@link SharedCacheUrl.display}, which never holds the password, and {@link redact} scrubs it from any
 * text a client library produced.
 */
import { CacheStoreError } from '../errors.js';

export interface SharedCacheUrl {
  /** What the client connects with (holds the password: never print it). */
  readonly connect: string;
  /** `redis://host:port/db`: what messages name. */
  readonly display: string;
  /** `host:port`: what the unreachable warning names. */
  readonly hostPort: string;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
}

/** A shared-cache or queue URL that cannot be used; exit code 1 like other store failures. */
export class SharedCacheUrlError extends CacheStoreError {
  constructor(what: string, problem: string) {
    super('store-open', `${what}: ${problem}\n  fix: write it as redis://[:password@]host:port[/db] (or rediss:// for TLS), e.g. redis://:secret@cache.example:6379/0`);
  }
}

/**
 * @param what names the setting in errors (`--shared-cache`, `MDPIPE_SHARED_CACHE`, `sharedCache`)
 * @throws SharedCacheUrlError naming the setting (never echoing the URL, which may hold a password)
 */
export function parseRedisUrl(text: string, what: string): SharedCacheUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SharedCacheUrlError(what, 'not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new SharedCacheUrlError(what, `the scheme is "${url.protocol}", not redis: or rediss:`);
  if (url.hostname === '') throw new SharedCacheUrlError(what, 'no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw new SharedCacheUrlError(what, 'the path must be a database number (/0 to /15)');
  const db = path === '' ? 0 : Number(path);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const hostPort = `${url.hostname}:${port}`;
  return { connect: text, display: `${url.protocol}//${hostPort}/${db}`, hostPort, host, port, db, tls: url.protocol === 'rediss:', username, password };
}

/** `text` with every occurrence of the password (and of the URL holding it) replaced by `***`. */
export function redact(text: string, url: SharedCacheUrl): string {
  let out = text.split(url.connect).join(url.display);
  if (url.password) {
    out = out.split(url.password).join('***');
    const encoded = encodeURIComponent(url.password);
    if (encoded !== url.password) out = out.split(encoded).join('***');
  }
  return out;
}

/** An error's message, redacted, on one line. */
export function describeFailure(error: unknown, url: SharedCacheUrl): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return redact(message.split('\n')[0], url);
}
