/**
 * The engine: the one object the CLI and the dataset wiring talk to.
 *
 * `openEngine` discovers partitions and builds the checked task graph; the cache store is given (or opened
 * on first use by the given `openStore`, so `graph` never touches it): the engine does not know which
 * store it is, the CLI (`cli/project.ts`) chooses. `run`, `gc` and `clean` take the project lock; `dryRun`, `status`,
 * `explain` and `graph` only read. Everything is reported through events (`onEvent`, and the logger if
 * given); the engine never prints.
 */
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { sha256 } from '../cache/digest.js';
import { collectGarbage, type GcOptions, type GcReport } from '../cache/gc.js';
import type { CacheStore, StoreInfo } from '../cache/store.js';
import { runBuild } from './builder/index.js';
import { MIN_TASKS as OFFLOAD_MIN_TASKS } from './builder/offload.js';
import { loadPipeline, summarizeSkipped, type SkippedMatch, type SkippedSummary } from './discover.js';
import { PipelineError, UnknownTaskError } from './errors.js';
import type { DryRunResult, EngineEvent, EngineListener, RunResult, RunSummary } from './events.js';
import type { Change } from './fingerprint.js';
import { GRAPH_FORMATS, renderGraph, type GraphFormat } from './graph-render.js';
import { acquireProjectLock, type LockOptions, type ProjectLock } from './lock.js';
import { logEvent, type Logger } from './logger.js';
import { outputPath } from './publish.js';
import { resolveTargets, upstreamClosure } from './select.js';
import { closeMatches } from '../util/suggest.js';
import type { TaskGraph } from './task-graph.js';
import type { PipelineDefinition } from './task.js';

export interface EngineOptions {
  definition: PipelineDefinition;
  /** Where the store (default `cache.sqlite`) and the lock live. */
  cacheDir: string;
  /** Where tasks' files are published. */
  outDir: string;
  /** The store (a keyv-backed SQLite, Redis or Postgres one, say). Give this or `openStore`. */
  store?: CacheStore;
  /** Opens the store on first use (the engine then owns and closes it). Give this or `store`. */
  openStore?: () => CacheStore;
  /**
   * Called when the store reports that it is damaged (not a database, corrupt pages): set it aside and
   * return an empty one with a warning, or undefined to fail. The run then starts again on the new store
   * (once): the cache is derived data, and outputs are only ever replaced by identical or newer results.
   */
  replaceDamagedStore?: (store: CacheStore | undefined, error: unknown) => Promise<{ store: CacheStore; message: string } | undefined>;
  /** Concurrent task slots. Default: `os.availableParallelism()`. */
  jobs?: number;
  /**
   * Run tasks that declare an `offload` function on a worker thread when many of them run at once
   * (builder/offload.ts): `true` from `OFFLOAD_MIN_TASKS` (2,048) of them on, a number from that many on,
   * `false` never. Default: `true` where there is a second core.
   */
  offload?: boolean | number;
  logger?: Logger;
  onEvent?: EngineListener;
  /** Written into records for information (not part of keys). */
  toolVersion?: string;
  /** Lock tuning (stale time, poll interval, the command recorded for other processes to see). */
  lock?: Pick<LockOptions, 'staleMs' | 'pollMs' | 'command'>;
  /**
   * Words the changes that make a task run as its one-line reason (`reason` in outcomes, events and
   * plans). The CLI passes its own (cli/change-text.ts); without it, the engine names the fields that
   * changed (`file, dep`), as data for a program rather than a sentence for a person.
   */
  describeChanges?: (changes: readonly Change[]) => string;
  /** Group-commit tuning (tests). */
  commit?: { maxEntries?: number; maxDelayMs?: number };
  /**
   * The project lock of `cacheDir`, taken by the caller (`acquireProjectLock`) and held across several
   * engines: `run`, `gc` and `clean` then use it instead of taking and releasing their own. For a process
   * that builds again and again (`mdpipe watch`) and must keep other runs out in between. The caller
   * releases it.
   */
  heldLock?: ProjectLock;
}

export interface RunOptions {
  /** Task ids or id globs; default every task. Their stale upstream is built too. */
  targets?: string[];
  /** Re-run the targets (every task without targets) even if fresh; upstream comes from the cache. */
  force?: boolean;
  /** Ctrl-C: stop starting tasks, let running ones finish, commit, report `interrupted`. */
  signal?: AbortSignal;
  /** Wait for another run holding the lock instead of failing with `LockedError`. */
  wait?: boolean;
  /** Keep running independent tasks after a failure (default true). */
  keepGoing?: boolean;
}

/** A task's freshness, as `status` lists it. */
export interface TaskState {
  id: string;
  kind: string;
  state: 'fresh' | 'stale';
  reason: string;
}

export interface Explanation {
  id: string;
  kind: string;
  state: 'fresh' | 'stale';
  action: DryRunResult['tasks'][number]['action'];
  /** One line. */
  reason: string;
  /** Every field that differs from the stored record. */
  changes: Change[];
  /** The stored record's provenance, if there is one. */
  stored?: { key: string; finishedAt: string; durationMs: number; toolVersion: string; outputDigest: string; files: string[] };
}

export interface CleanOptions {
  /** Also delete the published files the records name (only those still holding what was published). */
  outputs?: boolean;
  wait?: boolean;
}

export interface CleanReport {
  records: number;
  blobs: number;
  bytes: number;
  outputsRemoved: string[];
  /** Published files left in place because they were edited since they were published. */
  outputsKept: string[];
}

export interface Engine {
  readonly graph: TaskGraph;
  /** Glob matches the partitioned kinds declined. */
  readonly skipped: readonly SkippedMatch[];
  readonly skippedSummary: readonly SkippedSummary[];
  /** Builds the targets (default all) and their stale upstream. */
  run(options?: RunOptions): Promise<RunResult>;
  /** What `run` would do and why, from the same planner, without running or writing anything. */
  dryRun(options?: Pick<RunOptions, 'targets' | 'force'>): Promise<DryRunResult>;
  /** Every task (or the targets and their upstream) as fresh or stale, with the reason. */
  status(options?: Pick<RunOptions, 'targets'>): Promise<TaskState[]>;
  /** Why a task would re-run, field by field. */
  explain(id: string): Promise<Explanation>;
  /** The graph as text, DOT, Mermaid (kind graph unless `full`) or JSON (every node and edge). */
  renderGraph(format: GraphFormat, options?: { full?: boolean; maxNodes?: number; targets?: string[] }): string;
  /** Deletes what the current graph does not reference, then applies size and age limits. */
  gc(options?: GcOptions & { wait?: boolean }): Promise<GcReport>;
  /** Empties the store (and optionally the published outputs). */
  clean(options?: CleanOptions): Promise<CleanReport>;
  cacheInfo(): Promise<StoreInfo>;
  close(): Promise<void>;
}

/**
 * Discovers partitions, builds and checks the graph, and returns the engine.
 * @throws PipelineError (category `config`) for an invalid definition: cycle, unknown dependency, …
 */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const loaded = await loadPipeline(options.definition);
  const engine = new PipelineEngine(options, loaded.graph, loaded.skipped);
  engine.emit({ type: 'discovered', tasks: loaded.graph.tasks.length, counts: loaded.counts, skipped: engine.skippedSummary });
  return engine;
}

class PipelineEngine implements Engine {
  readonly skippedSummary: SkippedSummary[];
  readonly #options: EngineOptions;
  readonly #describe: (changes: readonly Change[]) => string;
  readonly #cacheDir: string;
  readonly #outDir: string;
  #store: CacheStore | undefined;
  #ownsStore: boolean;

  constructor(
    options: EngineOptions,
    readonly graph: TaskGraph,
    readonly skipped: SkippedMatch[],
  ) {
    this.#options = options;
    this.#describe = options.describeChanges ?? fieldsChanged;
    this.#cacheDir = resolve(options.cacheDir);
    this.#outDir = resolve(options.outDir);
    this.#store = options.store;
    this.#ownsStore = options.store === undefined; // opened by openStore (or a replacement): ours to close
    this.skippedSummary = summarizeSkipped(skipped);
  }

  emit(event: EngineEvent): void {
    this.#options.onEvent?.(event);
    if (this.#options.logger) logEvent(this.#options.logger, event);
  }

  #getStore(): CacheStore {
    if (this.#store === undefined) {
      if (!this.#options.openStore) throw new PipelineError('no-store', 'config', 'the engine was given neither a store nor openStore');
      this.#store = this.#options.openStore();
    }
    return this.#store;
  }

  /**
   * `body` with the store; once more on a fresh store if the store turns out damaged (see
   * `replaceDamagedStore`). Only under the project lock (`run`): a read-only command must not move a
   * database another process may be writing.
   */
  async #withStore<T>(body: (store: CacheStore) => Promise<T>): Promise<T> {
    try {
      return await body(this.#getStore());
    } catch (error) {
      const replaced = await this.#options.replaceDamagedStore?.(this.#store, error);
      if (!replaced) throw error;
      this.#store = replaced.store;
      this.#ownsStore = true;
      this.emit({ type: 'warning', message: replaced.message });
      return body(replaced.store);
    }
  }

  async #locked<T>(wait: boolean | undefined, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
    if (this.#options.heldLock) return body();
    const lock = await acquireProjectLock(this.#cacheDir, {
      ...this.#options.lock,
      wait,
      signal,
      onCompromised: (error) => this.emit({ type: 'warning', message: `the cache lock was lost while held: ${error.message}` }),
    });
    try {
      return await body();
    } finally {
      await lock.release();
    }
  }

  #scope(targets: readonly string[] | undefined, force: boolean | undefined): { selected: Uint8Array; forced: Uint8Array } {
    const roots = resolveTargets(this.graph, targets ?? []);
    const selected = upstreamClosure(this.graph, roots);
    const forced = new Uint8Array(this.graph.tasks.length);
    if (force) for (const i of roots) forced[i] = 1;
    return { selected, forced };
  }

  #jobs(): number {
    const jobs = this.#options.jobs ?? availableParallelism();
    if (!Number.isInteger(jobs) || jobs < 1) {
      throw new PipelineError('bad-jobs', 'usage', `jobs must be a positive integer (got ${jobs})`);
    }
    return jobs;
  }

  async run(options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const { selected, forced } = this.#scope(options.targets, options.force);
    const jobs = this.#jobs();
    return this.#locked(options.wait, options.signal, async () => {
      const result = await this.#withStore((store) =>
        runBuild({
          graph: this.graph,
          store,
          outDir: this.#outDir,
          jobs,
          toolVersion: this.#options.toolVersion ?? 'unknown',
          selected,
          forced,
          mode: 'run',
          signal: options.signal,
          keepGoing: options.keepGoing ?? true,
          emit: (event) => this.emit(event),
          commit: this.#options.commit,
          describe: this.#describe,
          targets: options.targets ?? [],
          offload: offloadFrom(this.#options.offload ?? availableParallelism() > 1),
        }),
      );
      const count = (status: string): number => result.outcomes.filter((o) => o.status === status).length;
      const summary: RunSummary = {
        ok: count('failed') === 0 && !result.interrupted,
        durationMs: Math.round(performance.now() - started),
        executed: count('executed'),
        cached: count('cached'),
        failed: count('failed'),
        skipped: count('skipped'),
        tasks: result.outcomes.map((o) => ({ id: o.id, status: o.status, ms: o.ms })),
      };
      this.emit({ type: 'run-end', summary, interrupted: result.interrupted });
      return { summary, outcomes: result.outcomes, interrupted: result.interrupted, stats: result.stats };
    });
  }

  async dryRun(options: Pick<RunOptions, 'targets' | 'force'> = {}): Promise<DryRunResult> {
    const { selected, forced } = this.#scope(options.targets, options.force);
    const result = await runBuild({
      graph: this.graph,
      store: this.#getStore(),
      outDir: this.#outDir,
      jobs: this.#jobs(),
      toolVersion: this.#options.toolVersion ?? 'unknown',
      selected,
      forced,
      mode: 'dry',
      describe: this.#describe,
    });
    const count = (action: string): number => result.planned.filter((t) => t.action === action).length;
    return { tasks: result.planned, run: count('run'), fresh: count('fresh'), runIfUpstreamChanges: count('run-if-upstream-changes') };
  }

  async status(options: Pick<RunOptions, 'targets'> = {}): Promise<TaskState[]> {
    const plan = await this.dryRun({ targets: options.targets });
    return plan.tasks.map((t) => ({ id: t.id, kind: t.kind, state: t.action === 'fresh' ? 'fresh' : 'stale', reason: t.reason }));
  }

  async explain(id: string): Promise<Explanation> {
    if (this.graph.indexOf(id) === undefined) throw new UnknownTaskError(id, closeMatches(id, this.graph.ids));
    const plan = await this.dryRun({ targets: [id] });
    const task = plan.tasks.find((t) => t.id === id)!;
    const [record] = await this.#getStore().getRecords([id]);
    const stored = record
      ? {
          key: record.key,
          finishedAt: record.finishedAt,
          durationMs: record.durationMs,
          toolVersion: record.toolVersion,
          outputDigest: record.output.digest,
          files: Object.keys(record.output.files),
        }
      : undefined;
    const state = task.action === 'fresh' ? 'fresh' : 'stale';
    return { id, kind: task.kind, state, action: task.action, reason: task.reason, changes: task.changes, stored };
  }

  renderGraph(format: GraphFormat, options: { full?: boolean; maxNodes?: number; targets?: string[] } = {}): string {
    if (!GRAPH_FORMATS.includes(format)) {
      throw new PipelineError('bad-graph-format', 'usage', `unknown graph format "${format}"; use one of ${GRAPH_FORMATS.join(', ')}`);
    }
    let subset: number[] | undefined;
    if (options.targets && options.targets.length > 0) {
      const selected = upstreamClosure(this.graph, resolveTargets(this.graph, options.targets));
      subset = this.graph.order.filter((i) => selected[i] === 1);
    }
    return renderGraph(this.graph, format, { full: options.full, maxNodes: options.maxNodes, subset });
  }

  async gc(options: GcOptions & { wait?: boolean } = {}): Promise<GcReport> {
    return this.#locked(options.wait, undefined, async () => {
      const store = this.#getStore();
      const paths = new Set<string>();
      for (const task of this.graph.tasks) for (const file of task.files) paths.add(file.path);
      for (const record of await store.getRecords(this.graph.ids)) {
        for (const rel of Object.keys(record?.output.files ?? {})) {
          const target = outputPath(this.#outDir, rel);
          if ('path' in target) paths.add(target.path);
        }
      }
      return collectGarbage(store, { ids: new Set(this.graph.ids), paths }, options);
    });
  }

  async clean(options: CleanOptions = {}): Promise<CleanReport> {
    return this.#locked(options.wait, undefined, async () => {
      const store = this.#getStore();
      const info = await store.info();
      const outputsRemoved: string[] = [];
      const outputsKept: string[] = [];
      if (options.outputs) {
        for (const record of await store.listRecords()) {
          for (const [rel, digest] of Object.entries(record.output?.files ?? {})) {
            const target = outputPath(this.#outDir, rel);
            if (!('path' in target)) continue;
            let bytes: Buffer;
            try {
              bytes = readFileSync(target.path);
            } catch {
              continue;
            }
            if (sha256(bytes) === digest) {
              rmSync(target.path, { force: true });
              outputsRemoved.push(target.path);
            } else outputsKept.push(target.path);
          }
        }
      }
      await store.clear();
      await store.compact();
      return { records: info.records, blobs: info.blobs, bytes: info.bytes, outputsRemoved, outputsKept };
    });
  }

  async cacheInfo(): Promise<StoreInfo> {
    return this.#getStore().info();
  }

  async close(): Promise<void> {
    if (this.#store && this.#ownsStore) await this.#store.close();
    this.#store = undefined;
  }
}

/** The engine's own reason for a run: the fields that changed, for embedders that word nothing. */
function fieldsChanged(changes: readonly Change[]): string {
  return changes.length === 0 ? 'up to date' : [...new Set(changes.map((change) => change.field))].join(', ');
}

/** The fewest offloadable tasks that start the offload thread (0: never), from the engine's option. */
function offloadFrom(option: boolean | number): number {
  if (option === true) return OFFLOAD_MIN_TASKS;
  return option === false || !Number.isFinite(option) ? 0 : Math.max(0, Math.floor(option));
}
