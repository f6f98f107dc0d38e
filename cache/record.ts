/**
 * The fingerprint record of one task: everything that entered its cache key, the key itself, and what the
 * task produced. The whole record is stored (not only the key) so `explain` can say which field changed.
 *
 * The record is data the store keeps; it is computed in `pipeline/fingerprint.ts`.
 */
import type { Json } from '../util/json.js';
import type { Digest } from './digest.js';

/**
 * Version of the record layout and of the key derivation. It is part of the key, so bumping it makes every
 * stored result stale at once: bump it whenever what triggers a re-run changes.
 */
export const RECORD_SCHEMA = 1;

/** Digest of a file input, or `absent` for an optional file that does not exist. */
export type FileDigest = Digest | 'absent';

/** What a task produced. */
export interface RecordOutput {
  /** SHA-256 of the v8-serialised value: what downstream keys include (early cutoff). */
  digest: Digest;
  /** Size in bytes of the serialised value. */
  size: number;
  /** Published files, relative to the output directory, with the digest of their content. */
  files: Record<string, Digest>;
}

export interface TaskRecord {
  /** {@link RECORD_SCHEMA} when written. In the key. */
  schema: number;
  /** mdpipe's version when written; informative only (not in the key: `codeVersion` carries semantics). */
  toolVersion: string;
  id: string;
  /** In the key: two kinds never share a result. */
  kind: string;
  /** In the key: bumped by hand when the run function's semantics change. */
  codeVersion: string;
  /** In the key (canonical JSON): everything else the output depends on. */
  params: Json;
  /**
   * Input files by name. The digest is in the key; the path is not (a moved tree stays fresh), but is kept
   * so `explain` can name the file.
   */
  files: Record<string, { path: string; digest: FileDigest }>;
  /** Upstream task id → its output digest. In the key. */
  deps: Record<string, Digest>;
  /** SHA-256 of the canonical JSON of the key fields above. */
  key: Digest;
  output: RecordOutput;
  /** Warnings the run function attached (`ctx.note`). */
  notes: string[];
  durationMs: number;
  /** ISO time the task finished. */
  finishedAt: string;
  /** Epoch ms of the last run that used this record (updated coarsely on hits, for GC by age). */
  usedAt: number;
}

/** Every blob a record needs for a hit: the value and each published file. */
export function blobsOfRecord(record: TaskRecord): Digest[] {
  return [record.output.digest, ...Object.values(record.output.files)];
}
