/**
 * Fingerprints: the fields that decide whether a task's stored result still holds, the key derived from
 * them, and the field-by-field difference between a stored record and the current state.
 *
 * The key is the SHA-256 of a canonical text of `schema, kind, codeVersion, params (canonical JSON: object
 * keys sorted at every level), files (name → digest, sorted by name), deps (id → digest, sorted by id)`.
 * File paths are not in it (a moved tree stays fresh), nor is the tool version (a release that changes
 * results bumps `RECORD_SCHEMA` or the tasks' `codeVersion`s; an unrelated release should not rebuild
 * everything). The text is built directly rather than by canonicalising one nested object: a no-op run
 * computes 3,400 keys, and the generic recursion measured as a tenth of its time.
 */
import { sha256, type Digest } from '../cache/digest.js';
import { RECORD_SCHEMA, type FileDigest, type TaskRecord } from '../cache/record.js';
import { canonicalJson, type Json } from '../util/json.js';

/** The current state of a task's key fields: what a record stores of them. */
export type Fingerprint = Pick<TaskRecord, 'schema' | 'kind' | 'codeVersion' | 'params' | 'files' | 'deps' | 'key'>;

/** What a key needs of a declaration. */
type Keyed = { kind: string; codeVersion: string; params: Json; codec?: { id: string } };

/**
 * The code version as keyed and recorded: the declared one, plus the codec's id when the task has its own
 * codec (its output digest is of the encoded bytes, so another codec is another result). Folded into the
 * code version so that a codec change is explained as a code version change, and tasks without a codec
 * keep their keys.
 */
export function keyedCodeVersion(task: Keyed): string {
  return task.codec === undefined ? task.codeVersion : `${task.codeVersion}+codec:${task.codec.id}`;
}

/** Canonical JSON of params, memoised per params object (a task's params do not change during a run). */
const paramsText = new WeakMap<object, string>();
function canonicalParams(params: Json): string {
  if (params === null || typeof params !== 'object') return canonicalJson(params);
  let text = paramsText.get(params);
  if (text === undefined) {
    text = canonicalJson(params);
    paramsText.set(params, text);
  }
  return text;
}

/** The parts of a key that depend only on the declaration, memoised per declaration object. */
interface KeyTemplate {
  prefix: string;
  /** `f"name"` per file, in name order. */
  fileTokens: string[];
  /** Declaration index of the k-th file in name order. */
  order: number[];
}
const templates = new WeakMap<object, KeyTemplate>();
/** The file part of templates, by the names joined: every task of a partitioned kind has the same names. */
const fileParts = new Map<string, Pick<KeyTemplate, 'fileTokens' | 'order'>>();

function keyTemplate(task: Keyed, fileNames: readonly string[]): KeyTemplate {
  let template = templates.get(task);
  if (template === undefined || template.order.length !== fileNames.length) {
    const joined = fileNames.join('\u0000');
    let files = fileParts.get(joined);
    if (files === undefined) {
      const order = fileNames.map((_, k) => k).sort((a, b) => (fileNames[a] < fileNames[b] ? -1 : fileNames[a] > fileNames[b] ? 1 : 0));
      files = { fileTokens: order.map((f) => `f${JSON.stringify(fileNames[f])}`), order };
      fileParts.set(joined, files);
    }
    template = {
      prefix: `mdpipe-key\n${RECORD_SCHEMA}\n${JSON.stringify(task.kind)}\n${JSON.stringify(keyedCodeVersion(task))}\n${canonicalParams(task.params)}\n`,
      fileTokens: files.fileTokens,
      order: files.order,
    };
    templates.set(task, template);
  }
  return template;
}

/**
 * The cache key of a task's state (see the file header).
 * @param task the declaration (its kind, code version and params; memoised per object, so do not mutate it)
 * @param fileNames input names in declaration order, index-aligned with `fileDigests`
 * @param depIds upstream ids sorted, index-aligned with `depDigests`
 */
export function computeKey(
  task: Keyed,
  fileNames: readonly string[],
  fileDigests: readonly FileDigest[],
  depIds: readonly string[],
  depDigests: readonly string[],
): Digest {
  const template = keyTemplate(task, fileNames);
  let text = template.prefix;
  for (let k = 0; k < template.order.length; k++) text += `${template.fileTokens[k]}${fileDigests[template.order[k]]}\n`;
  for (let k = 0; k < depIds.length; k++) text += `d${JSON.stringify(depIds[k])}${depDigests[k]}\n`;
  return sha256(text);
}

/**
 * Builds a fingerprint (the key and the fields it covers, as stored in a record).
 * @param files input files in declaration order with their digests
 * @param depIds upstream ids (sorted), index-aligned with `depDigests`
 */
export function makeFingerprint(
  task: Keyed,
  files: ReadonlyArray<{ name: string; path: string; digest: FileDigest }>,
  depIds: readonly string[],
  depDigests: readonly Digest[],
): Fingerprint {
  const fileMap: Record<string, { path: string; digest: FileDigest }> = {};
  for (const file of files) fileMap[file.name] = { path: file.path, digest: file.digest };
  const deps: Record<string, Digest> = {};
  for (let i = 0; i < depIds.length; i++) deps[depIds[i]] = depDigests[i];
  const key = computeKey(task, files.map((f) => f.name), files.map((f) => f.digest), depIds, depDigests);
  return { schema: RECORD_SCHEMA, kind: task.kind, codeVersion: keyedCodeVersion(task), params: task.params, files: fileMap, deps, key };
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
