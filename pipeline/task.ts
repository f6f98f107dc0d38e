/**
 * What a task node is, as the engine sees it: the contract between `pipeline/` (which plans, hashes,
 * caches and schedules) and `tasks/` (which declares what to compute). Nothing here knows what the
 * data are; a task's inputs are files and other tasks' outputs, its output is a value plus optional
 * files to publish.
 *
 * Every field that enters a task's cache key says so in its comment, and why.
 */

import type { Json } from '../util/json.js';

export type { Json } from '../util/json.js';

/** One input file of a task. */
export interface FileInput {
  /** Name the run function reads it by (`loss_acc_test.pkl`); unique within the task. In the key. */
  name: string;
  /** Absolute path. In the key only through `name` and the content digest, so a moved tree stays fresh. */
  path: string;
  /**
   * If true, an absent file is a legitimate input state (hashed as "absent") and the run function gets
   * `null` for it. If false, an absent file fails the task with an error naming the path.
   */
  optional?: boolean;
  /**
   * Largest size accepted, in bytes: a bigger file fails the task, naming its size and this limit, before
   * any of it is read (so a stray multi-gigabyte file cannot exhaust memory). Default 1 GiB
   * (`DEFAULT_MAX_INPUT_BYTES`). Not in the key (the content digest is).
   */
  maxBytes?: number;
}

/** What a run function receives. */
export interface TaskContext {
  readonly id: string;
  readonly params: Json;
  /** Contents of the declared input files, read and hashed once by the engine; `null` when absent. */
  readonly files: ReadonlyMap<string, Buffer | null>;
  /** Decoded outputs of upstream tasks, by task id (see `TaskDeclaration.deps`). */
  readonly upstream: ReadonlyMap<string, unknown>;
  /** Aborted on Ctrl-C or when a failure policy stops the run. */
  readonly signal: AbortSignal;
  /** Attach a warning to this task's result (kept in the record, shown in reports). */
  note(message: string): void;
  /**
   * For a task declared `incremental: true`: its last committed successful result and how its
   * dependencies changed since then, so that it can patch instead of recomputing. `null` when there is
   * none it may use (first build, `--force`, code version or params changed, record gone). The result of
   * a run must be the same with or without it: it is a hint for speed, never a source of truth. With it,
   * the engine fetches only the `changed` dependencies' values for `upstream`; reading another one makes
   * the engine run the task again with every value fetched (slower, same result).
   */
  readonly previous: PreviousResult | null;
}

/** What an incremental task gets of its own last committed successful run (see `TaskContext.previous`). */
export interface PreviousResult {
  /** Its decoded output value. */
  readonly value: unknown;
  /** Files it published then, relative to the output directory, as published (byte for byte). */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Dependency ids whose output digest differs from then, including dependencies that are new. */
  readonly changed: ReadonlySet<string>;
  /** Dependency ids it had then that it no longer has (a deleted checkpoint folder, say). */
  readonly removed: ReadonlySet<string>;
}

/** Encodes a task's output value to bytes and back; the default is v8 serialisation. */
export interface ValueCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

/** What a run function returns. */
export interface TaskResult {
  /** Passed to downstream tasks; encoded by the engine (v8 serialisation: NaN, typed arrays, Maps survive). */
  value: unknown;
  /**
   * Files to publish, relative to the output directory (`basic/dataframe.csv`). The engine stores them
   * content-addressed and writes them atomically (temporary name, then rename) once the task succeeded;
   * a cache hit restores them if they are missing or were edited.
   */
  files?: Record<string, Uint8Array>;
}

/** A task node, fully resolved: what the graph is built from. */
export interface TaskDeclaration {
  /** `KIND:COLLECTION` or `KIND:COLLECTION/PARTITION` (`grid:basic`, `parse:noisy/bs_16_w_2_d_10`). */
  id: string;
  /** The kind (`parse`, `grid`, ...): what `graph` folds partitions into. In the key. */
  kind: string;
  /** Bumped by hand when the run function's semantics change, so old results stop matching. In the key. */
  codeVersion: string;
  /** Everything else the output depends on. In the key (canonical JSON). */
  params: Json;
  /** Input files. Their content digests are in the key. */
  files: FileInput[];
  /**
   * Upstream task ids, or id globs expanded after discovery (`parse:basic/*`: every partition of the
   * kind found for that collection). Their output digests are in the key, so an upstream task that
   * re-runs and produces the same output leaves this one fresh (early cutoff).
   */
  deps: string[];
  run(ctx: TaskContext): TaskResult | Promise<TaskResult>;
  /** One-line human description for `status`, `graph` and `--help`. */
  description?: string;
  /** If true, `run` receives `ctx.previous` when the engine has one (see `PreviousResult`). */
  incremental?: boolean;
  /** How this task's value is stored and passed downstream; default v8 serialisation. In the key (by `codec.id`). */
  codec?: ValueCodec & { id: string };
  /**
   * Left out of a run without targets (plots: slow, and not what most runs want); built when a target
   * names it. Not in the key: it decides whether the task runs, not what it computes.
   */
  onlyWhenTargeted?: boolean;
  /**
   * The same run as a function a worker thread can call (`builder/offload.ts`), for a task without
   * dependencies: the ES module at the file URL `module` exports `runOffloaded(args, files)`, which returns
   * `{ value, notes }`, the bytes the codec makes of `run`'s value and the notes `run` gives, for the same
   * files (a `Map` of file name to bytes, null when absent), or throws where `run` would. The engine uses it
   * when many such tasks run at once and there is a second core; an error there makes the task run here,
   * so a failure is always `run`'s own. Not in the key: where the run is made does not change it.
   */
  offload?: { module: string; args: Json };
}

/** What an `offload` module's `runOffloaded` returns. */
export interface OffloadedResult {
  value: Uint8Array;
  notes: string[];
}

/**
 * A partitioned kind: one task per discovered item, found by one fast-glob pass (`pipeline/discover.ts`).
 * The engine globs, then asks `partition` what task (if any) each match is.
 */
export interface PartitionedKind {
  kind: string;
  /** Names this discovery in reports when one kind is discovered in several places (`parse:basic`). */
  name?: string;
  /** Where to glob and what: `{cwd, pattern, onlyDirectories}`. */
  discover: { cwd: string; pattern: string; onlyDirectories?: boolean };
  /**
   * Turn one glob match (relative to `cwd`) into a task, or say why it is not one (it is outside the
   * configured axes, say): skipped matches are counted and reported, never silently dropped.
   */
  partition(match: string): TaskDeclaration | { skip: string };
}

/** What discovery found, for fixed tasks that depend on it (a coverage report, say). */
export interface Discovery {
  /** Ids of the partition tasks, sorted. */
  partitions: readonly string[];
}

/** Everything the engine is given: fixed tasks plus partitioned kinds to discover. */
export interface PipelineDefinition {
  /**
   * The fixed (non-partitioned) tasks, or a function giving them once discovery has run, for tasks whose
   * parameters depend on what was found (called after every `partition`).
   */
  tasks: TaskDeclaration[] | ((discovery: Discovery) => TaskDeclaration[]);
  partitioned: PartitionedKind[];
}
