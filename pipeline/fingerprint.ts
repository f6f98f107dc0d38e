/**
 * Fingerprints: the fields that decide whether a task's stored result still holds, the key derived from
 * them, and the field-by-field difference between a stored record and the current state.
 *
 * The key is the SHA-256 of the canonical JSON (object keys sorted at every level) of
 * `{schema, kind, codeVersion, params, files: {name: digest}, deps: {id: digest}}`. File paths are not in
 * it (a moved tree stays fresh), nor is the tool version (a release that changes results bumps
 * `RECORD_SCHEMA` or the tasks' `codeVersion`s; an unrelated release should not rebuild everything).
 */
import { sha256, type Digest } from '../cache/digest.js';
import { RECORD_SCHEMA, type FileDigest, type TaskRecord } from '../cache/record.js';
import type { Json } from './task.js';

/** The current state of a task's key fields. */
export interface Fingerprint {
  schema: number;
  kind: string;
  codeVersion: string;
  params: Json;
  files: Record<string, { path: string; digest: FileDigest }>;
  deps: Record<string, Digest>;
  key: Digest;
}

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

/**
 * Builds a fingerprint.
 * @param files input files in declaration order with their digests
 * @param deps upstream ids (sorted) and their output digests, index-aligned
 */
export function makeFingerprint(
  task: { kind: string; codeVersion: string; params: Json },
  files: ReadonlyArray<{ name: string; path: string; digest: FileDigest }>,
  depIds: readonly string[],
  depDigests: readonly Digest[],
): Fingerprint {
  const fileMap: Record<string, { path: string; digest: FileDigest }> = {};
  const fileDigests: Record<string, FileDigest> = {};
  for (const file of files) {
    fileMap[file.name] = { path: file.path, digest: file.digest };
    fileDigests[file.name] = file.digest;
  }
  const deps: Record<string, Digest> = {};
  for (let i = 0; i < depIds.length; i++) deps[depIds[i]] = depDigests[i];
  const key = sha256(
    canonicalJson({ schema: RECORD_SCHEMA, kind: task.kind, codeVersion: task.codeVersion, params: task.params, files: fileDigests, deps }),
  );
  return { schema: RECORD_SCHEMA, kind: task.kind, codeVersion: task.codeVersion, params: task.params, files: fileMap, deps, key };
}

/** One difference between the stored record and the current state. */
export type Change =
  | { field: 'record'; detail: 'absent' | 'outputs-missing' }
  | { field: 'forced' }
  | { field: 'schema'; old: number; new: number }
  | { field: 'kind'; old: string; new: string }
  | { field: 'codeVersion'; old: string; new: string }
  | { field: 'params'; path: string; old: Json | undefined; new: Json | undefined }
  | { field: 'file'; name: string; path: string; old: FileDigest | undefined; new: FileDigest | undefined }
  | { field: 'missing-input'; name: string; path: string }
  | { field: 'dep'; id: string; old: Digest | undefined; new: Digest | 'unknown' | undefined };

/**
 * Every key field that differs between `record` and `current`. A dep whose current digest is unknown
 * (it would re-run first) is reported with `new: 'unknown'` only when `unknownDeps` names it.
 */
export function diffFingerprint(record: TaskRecord, current: Fingerprint, unknownDeps: ReadonlySet<string> = new Set()): Change[] {
  const changes: Change[] = [];
  if (record.schema !== current.schema) changes.push({ field: 'schema', old: record.schema, new: current.schema });
  if (record.kind !== current.kind) changes.push({ field: 'kind', old: record.kind, new: current.kind });
  if (record.codeVersion !== current.codeVersion) {
    changes.push({ field: 'codeVersion', old: record.codeVersion, new: current.codeVersion });
  }
  diffJson(record.params, current.params, 'params', changes);
  const names = new Set([...Object.keys(record.files ?? {}), ...Object.keys(current.files)]);
  for (const name of [...names].sort()) {
    const old = record.files?.[name];
    const now = current.files[name];
    if (old?.digest !== now?.digest) {
      changes.push({ field: 'file', name, path: now?.path ?? old?.path ?? '', old: old?.digest, new: now?.digest });
    }
  }
  const ids = new Set([...Object.keys(record.deps ?? {}), ...Object.keys(current.deps)]);
  for (const id of [...ids].sort()) {
    const old = record.deps?.[id];
    if (unknownDeps.has(id)) changes.push({ field: 'dep', id, old, new: 'unknown' });
    else if (old !== current.deps[id]) changes.push({ field: 'dep', id, old, new: current.deps[id] });
  }
  return changes;
}

function diffJson(old: Json | undefined, now: Json | undefined, path: string, out: Change[]): void {
  if (out.length > 200) return;
  const bothObjects =
    old !== null && now !== null && typeof old === 'object' && typeof now === 'object' && Array.isArray(old) === Array.isArray(now);
  if (bothObjects) {
    if (Array.isArray(old) && Array.isArray(now)) {
      for (let i = 0; i < Math.max(old.length, now.length); i++) diffJson(old[i], now[i], `${path}[${i}]`, out);
      return;
    }
    const o = old as Record<string, Json>;
    const n = now as Record<string, Json>;
    for (const key of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
      diffJson(o[key], n[key], `${path}.${key}`, out);
    }
    return;
  }
  if (canonicalJson(old) !== canonicalJson(now)) out.push({ field: 'params', path, old, new: now });
}

const short = (digest: string | undefined): string =>
  digest === undefined ? 'none' : digest === 'absent' || digest === 'unknown' ? digest : digest.slice(0, 12);
const json = (value: Json | undefined): string => (value === undefined ? '(unset)' : JSON.stringify(value));

/** One line for a change; `full` prints whole digests (for `explain`) instead of 12-character prefixes. */
export function describeChange(change: Change, full = false): string {
  const d = full ? (x: string | undefined) => x ?? 'none' : short;
  switch (change.field) {
    case 'record':
      return change.detail === 'absent'
        ? 'no stored result (never built, or the last run failed or was interrupted)'
        : 'stored output is missing from the cache';
    case 'forced':
      return 'forced';
    case 'schema':
      return `cache schema changed (${change.old} → ${change.new})`;
    case 'kind':
      return `kind changed (${change.old} → ${change.new})`;
    case 'codeVersion':
      return `code version changed (${change.old} → ${change.new})`;
    case 'params':
      return `parameter ${change.path} changed (${json(change.old)} → ${json(change.new)})`;
    case 'file':
      if (change.old === undefined) return `new input ${change.name} (${change.path})`;
      if (change.new === undefined) return `input ${change.name} no longer declared (${change.path})`;
      return `input ${change.name} changed: ${change.path} (${d(change.old)} → ${d(change.new)})`;
    case 'missing-input':
      return `input ${change.name} is missing: ${change.path} (the task will fail until it is restored)`;
    case 'dep':
      if (change.new === 'unknown') return `upstream ${change.id} would re-run (this task re-runs if its output changes)`;
      if (change.old === undefined) return `new upstream ${change.id}`;
      if (change.new === undefined) return `upstream ${change.id} removed`;
      return `upstream ${change.id} output changed (${d(change.old)} → ${d(change.new)})`;
    default: {
      const never: never = change;
      return String(never);
    }
  }
}

/** A one-line reason: the first change, and how many more there are. */
export function summarizeChanges(changes: readonly Change[]): string {
  if (changes.length === 0) return 'up to date';
  const first = describeChange(changes[0]);
  return changes.length === 1 ? first : `${first} (+${changes.length - 1} more)`;
}
