/**
 * JSON as the engine hashes it: the `Json` type (what task parameters may be), canonical JSON (object keys
 * sorted at every level, so equal values always give the same text) and `jsonProblem` (why a value is not
 * safe to hash as JSON). Generic: nothing here knows about tasks or caches.
 */

/** JSON-compatible data: what parameters may be (they are hashed as canonical JSON). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted at every level, so equal values always give the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    out += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:${canonicalJson((value as Record<string, unknown>)[keys[i]])}`;
  }
  return `${out}}`;
}

/** Why a value is not canonical-JSON-safe, or undefined if it is. */
export function jsonProblem(value: unknown, path: string): string | undefined {
  const found = notJson(value);
  if (found === undefined) return undefined;
  return `${path}${found.at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')} is ${found.what}`;
}

/**
 * The first place in `value` that is not JSON, and what is there. The path is put together only for a
 * problem found: every task's params are checked when the graph is built (3,390 of them in a no-op run),
 * and building a path text per key measured ~10 ms of it.
 */
function notJson(value: unknown): { at: (string | number)[]; what: string } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { at: [], what: String(value) };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = notJson(value[i]);
      if (found) return found.at.unshift(i), found;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) {
      const found = notJson((value as Record<string, unknown>)[key]);
      if (found) return found.at.unshift(key), found;
    }
    return undefined;
  }
  return { at: [], what: value === undefined ? 'undefined' : `a ${typeof value === 'object' ? (value as object).constructor?.name : typeof value}` };
}
