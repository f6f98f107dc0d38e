/**
 * One build over the task graph: the planner and the scheduler in a single pass, so a dry run is the
 * real run with execution stubbed out (same lookups, same decisions, same reasons).
 *
 * Algorithm (a ready queue over the DAG, Kahn-style):
 *  0. The partition index (`partition-index.ts`, one value): a task without dependencies whose inputs have
 *     the stats and whose key the index records is decided there and then, from a `stat` per input, with
 *     no record read. Everything else goes through step 1.
 *  1. Load, batched: every remaining task's record (one `getRecords`), the existence of every blob those
 *     records name (one `hasBlobs`), then, for the files that can decide something (inputs of tasks with
 *     a usable record, and the files those records published), the stat memos (one `getStatMemos`) and
 *     one `stat` each. A file whose stat matches its memo gets the memo's digest without being read.
 *  2. Resolve tasks as their upstream resolves. A task's key needs its upstream's output digests, so a
 *     task is only decided when all its deps are: a cached dep gives its stored digest at once; an
 *     executed dep gives the digest of what it produced, and if that is unchanged the task stays fresh
 *     (early cutoff). Resolution is a synchronous loop: a no-op build creates no promise per task.
 *  3. Work that needs I/O or user code goes to a pool of `jobs` slots: hashing a task's inputs whose stat
 *     changed (then deciding), restoring a hit's published files, and executing a stale task.
 *
 * Commit protocol of an executed task: inputs are read once and hashed before it runs (those bytes are
 * what it sees); its previous record is deleted first (batched over the tasks about to start); after it
 * returns, its inputs are re-stat'ed (a change fails the task, uncommitted); its files are published
 * (temporary name, then rename, only when the content differs); its blobs then its record go to the
 * group committer. A failed task commits nothing and its dependents are skipped; other work continues.
 *
 * It does not choose targets (`select.ts`), take the lock (`lock.ts`) or render anything.
 */
import { readFileSync, statSync } from 'node:fs';
import v8 from 'node:v8';
import { sha256, type Digest } from '../cache/digest.js';
import { blobsOfRecord, RECORD_SCHEMA, type TaskRecord } from '../cache/record.js';
import type { BlobWrite, CacheStore, StatMemo } from '../cache/store.js';
import { GroupCommitter } from './committer.js';
import { fileSystemFix, InputChangedError, InvalidResultError, MissingInputError, PipelineError } from './errors.js';
import type {
  EngineEvent,
  PlannedAction,
  PlannedTask,
  RunStats,
  TaskOutcome,
  TaskStatus,
} from './events.js';
import { isMemoizable, memoOf, readFileWithStat, sameStat, statFile, type FileStat } from './file-state.js';
import { computeKey, diffFingerprint, makeFingerprint, summarizeChanges, type Change, type Fingerprint } from './fingerprint.js';
import { indexWrites, loadIndex, PARTITION_INDEX, PARTITION_INDEX_DELTA, statText, UNKNOWN_STAT, type IndexEntry, type LoadedIndex } from './partition-index.js';
import { outputPath, removeStaleTemporaries, writeFileAtomic } from './publish.js';
import type { TaskGraph } from './task-graph.js';
import type { Json, TaskContext, TaskDeclaration, TaskResult } from './task.js';

/** Records are rewritten with a new `usedAt` at most this often (like `relatime`), for GC by age. */
export const TOUCH_INTERVAL_MS = 60 * 60 * 1000;

/**
 * The run loop hands the event loop a turn when it has run this long without one: enough for an abort
 * (Ctrl-C) to stop new tasks within a few tasks' time, rare enough to cost nothing measurable.
 */
const YIELD_EVERY_MS = 25;

export interface BuildOptions {
  graph: TaskGraph;
  store: CacheStore;
  outDir: string;
  jobs: number;
  toolVersion: string;
  /** 1 for every task in scope (targets and their upstream). */
  selected: Uint8Array;
  /** 1 for every task to run even if fresh. */
  forced: Uint8Array;
  mode: 'run' | 'dry';
  /** Stop starting new work when aborted; running tasks see it in `ctx.signal`. */
  signal?: AbortSignal;
  /** When false, the first failure stops new work (like an abort). Default true. */
  keepGoing?: boolean;
  emit?: (event: EngineEvent) => void;
  commit?: { maxEntries?: number; maxDelayMs?: number };
  /** The targets as given, for the `planned` event. */
  targets?: string[];
}

export interface BuildResult {
  outcomes: TaskOutcome[];
  planned: PlannedTask[];
  interrupted: boolean;
  stats: RunStats;
}

type Job = { type: 'decide' | 'exec' | 'restore'; task: number };

/** A file input as read for a run: bytes (null when an optional file is absent) and the stat read. */
interface InputRead {
  bytes: Buffer | null;
  stat: FileStat | undefined;
  digest: Digest | 'absent';
}

const enum Phase {
  Pending,
  Resolving,
  Done,
}

/** Runs one build; see the file header. */
export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const build = new Build(options);
  return build.run();
}

class Build {
  readonly #o: BuildOptions;
  readonly #g: TaskGraph;
  readonly #dry: boolean;
  readonly #emit: (event: EngineEvent) => void;
  readonly #committer: GroupCommitter | undefined;
  readonly #controller = new AbortController();
  readonly #stats: RunStats = { filesHashed: 0, filesStatted: 0, blobsRead: 0, commits: 0 };

  // Per task, by index.
  readonly #record: (TaskRecord | undefined)[];
  readonly #usable: Uint8Array; // record present and every blob it names exists
  readonly #stored: Uint8Array; // a record is in the store (must be invalidated before running)
  readonly #invalidated: Uint8Array;
  readonly #waiting: Int32Array;
  readonly #consumers: Int32Array;
  readonly #phase: Uint8Array;
  readonly #status: (TaskStatus | undefined)[];
  readonly #action: (PlannedAction | undefined)[];
  readonly #unknownOutput: Uint8Array; // dry run: output digest unknown (it would run)
  readonly #digest: (Digest | undefined)[];
  readonly #reason: (string | undefined)[];
  readonly #changes: (Change[] | undefined)[];
  readonly #error: (string | undefined)[];
  readonly #restored: (string[] | undefined)[];
  readonly #notes: (string[] | undefined)[];
  readonly #readyAt: Float64Array;
  readonly #ms: Float64Array;
  readonly #taskPaths: Int32Array[];
  readonly #names: (string[] | undefined)[];
  /** Decided from the partition index (a hit whose record was never read). */
  readonly #fast: Uint8Array;
  #index = new Map<string, IndexEntry>();
  /** The index as stored (base generation, delta), for writing the next delta or base. */
  #loadedIndex: LoadedIndex | undefined;
  /** Records were deleted in this run, and with them the stored index: it must be written again. */
  #indexDropped = false;
  /**
   * Inputs whose stats match their task's index entry although the entry could not decide the task (its
   * record is due for its last-use update, or the declaration changed): path id, stat, digest. The entry
   * vouches for their digests as a stat memo would (see `#decideFromIndex`).
   */
  readonly #vouched: [number, FileStat | undefined, Digest | 'absent'][] = [];

  // Per file path.
  readonly #pathIndex = new Map<string, number>();
  readonly #paths: string[] = [];
  #pathStat: (FileStat | undefined | null)[] = []; // undefined: absent; null: not statted or stat failed
  #pathDigest: (Digest | undefined)[] = [];

  readonly #values = new Map<number, Buffer>(); // serialised outputs kept while dependents may need them
  readonly #preread = new Map<number, (InputRead | undefined)[]>(); // inputs read while deciding
  readonly #ready: number[] = [];
  #readyHead = 0;
  readonly #jobs: Job[] = [];
  #jobsHead = 0;
  readonly #urgent: Job[] = [];
  #active = 0;
  #invalidating = false;
  #stopping: 'interrupted' | 'failed' | undefined;
  #fatal: unknown;
  #wakeResolve: (() => void) | undefined;
  #woken = false;

  constructor(options: BuildOptions) {
    this.#o = options;
    this.#g = options.graph;
    this.#dry = options.mode === 'dry';
    this.#emit = this.#dry ? () => {} : (options.emit ?? (() => {}));
    const n = this.#g.tasks.length;
    this.#record = new Array(n);
    this.#usable = new Uint8Array(n);
    this.#stored = new Uint8Array(n);
    this.#invalidated = new Uint8Array(n);
    this.#waiting = new Int32Array(n);
    this.#consumers = new Int32Array(n);
    this.#phase = new Uint8Array(n);
    this.#status = new Array(n);
    this.#action = new Array(n);
    this.#unknownOutput = new Uint8Array(n);
    this.#digest = new Array(n);
    this.#reason = new Array(n);
    this.#changes = new Array(n);
    this.#error = new Array(n);
    this.#restored = new Array(n);
    this.#notes = new Array(n);
    this.#readyAt = new Float64Array(n);
    this.#ms = new Float64Array(n);
    this.#taskPaths = new Array(n);
    this.#names = new Array(n);
    this.#fast = new Uint8Array(n);
    this.#committer = this.#dry
      ? undefined
      : new GroupCommitter(options.store, {
          ...options.commit,
          onCommitted: (ids) => {
            this.#stats.commits++;
            this.#emit({ type: 'committed', ids });
          },
        });
  }

  async run(): Promise<BuildResult> {
    const selectedOrder = this.#g.order.filter((i) => this.#o.selected[i] === 1);
    await this.#load(selectedOrder);
    this.#emit({
      type: 'planned',
      total: selectedOrder.length,
      targets: this.#o.targets ?? [],
      forced: selectedOrder.reduce((n, i) => n + this.#o.forced[i], 0),
    });

    const onAbort = (): void => this.#stop('interrupted');
    if (this.#o.signal?.aborted) this.#stop('interrupted');
    this.#o.signal?.addEventListener('abort', onAbort);
    try {
      const now = performance.now();
      for (const i of selectedOrder) {
        this.#readyAt[i] = now;
        if (this.#waiting[i] === 0) this.#ready.push(i);
      }
      await this.#loop();
      if (this.#committer) await this.#committer.flush();
      if (!this.#dry && this.#fatal === undefined) await this.#writeIndex(selectedOrder);
    } finally {
      this.#o.signal?.removeEventListener('abort', onAbort);
    }
    if (this.#fatal !== undefined) throw this.#fatal;
    return this.#result(selectedOrder);
  }

  // ---------------------------------------------------------------- loading

  async #load(all: readonly number[]): Promise<void> {
    const g = this.#g;
    for (const i of all) for (const dep of g.deps[i]) this.#waiting[i]++, this.#consumers[dep]++;
    const store = this.#o.store;
    if (store.getIndex) {
      const [base, delta] = await Promise.all([store.getIndex(PARTITION_INDEX), store.getIndex(PARTITION_INDEX_DELTA)]);
      this.#loadedIndex = loadIndex(base, delta);
      this.#index = this.#loadedIndex.entries;
    }
    let order = this.#index.size === 0 ? all : all.filter((i) => !this.#decideFromIndex(i));
    if (order.length < all.length) {
      // A hit needs its blob: one existence check for every output the index vouches for (a blob lost
      // outside the store's API, by damage, makes that task take the ordinary path and run).
      const fast = all.filter((i) => this.#fast[i] === 1);
      const present = await store.hasBlobs(fast.map((i) => this.#digest[i]!));
      const lost = fast.filter((_, k) => !present[k]);
      for (const i of lost) this.#fast[i] = 0;
      if (lost.length > 0) order = all.filter((i) => this.#fast[i] === 0);
    }
    for (const i of all) if (this.#fast[i]) this.#taskPaths[i] = Int32Array.from(g.tasks[i].files, (file) => this.#pathId(file.path));

    const records = await store.getRecords(order.map((i) => g.ids[i]));
    const blobDigests = new Set<Digest>();
    order.forEach((i, k) => {
      const record = isRecord(records[k]) ? records[k] : undefined;
      if (records[k] !== undefined && !record) this.#stored[i] = 1; // unreadable: a miss, deleted before running
      this.#record[i] = record;
      if (record) {
        this.#stored[i] = 1;
        for (const digest of blobsOfRecord(record)) blobDigests.add(digest);
      }
    });
    const digestList = [...blobDigests];
    const present = await this.#o.store.hasBlobs(digestList);
    const missing = new Set<Digest>();
    digestList.forEach((digest, k) => {
      if (!present[k]) missing.add(digest);
    });
    for (const i of order) {
      const record = this.#record[i];
      if (record && (missing.size === 0 || blobsOfRecord(record).every((d) => !missing.has(d)))) this.#usable[i] = 1;
    }

    // Only files whose stat can decide something are statted: the inputs of tasks with a usable record
    // (not forced) and the published files of those records. A task without one runs anyway and reads
    // its inputs then, so a cold build does not stat 20,000 files for nothing.
    let wanted: number[] = [];
    const seen = new Set<number>();
    const want = (p: number): void => {
      if (!seen.has(p)) {
        seen.add(p);
        wanted.push(p);
      }
    };
    for (const i of order) {
      const files = g.tasks[i].files;
      const indices = new Int32Array(files.length);
      const decidable = this.#usable[i] === 1 && this.#o.forced[i] === 0;
      for (let f = 0; f < files.length; f++) {
        indices[f] = this.#pathId(files[f].path);
        if (decidable) want(indices[f]);
      }
      this.#taskPaths[i] = indices;
      const record = this.#record[i];
      if (record && this.#usable[i]) {
        for (const rel of Object.keys(record.output.files)) {
          const target = outputPath(this.#o.outDir, rel);
          if ('path' in target) want(this.#pathId(target.path));
        }
      }
    }
    const count = this.#paths.length;
    this.#pathStat = new Array(count).fill(null);
    this.#pathDigest = new Array(count);
    for (const [p, stat, digest] of this.#vouched) {
      this.#pathStat[p] = stat;
      if (digest !== 'absent') this.#pathDigest[p] = digest;
    }
    if (this.#vouched.length > 0) {
      // Statted already, digests known: no second stat, no memo lookup.
      const vouched = new Set(this.#vouched.map(([p]) => p));
      wanted = wanted.filter((p) => !vouched.has(p));
    }
    const memos = await this.#o.store.getStatMemos(wanted.map((p) => this.#paths[p]));
    for (let k = 0; k < wanted.length; k++) {
      const p = wanted[k];
      let stat: FileStat | undefined | null;
      try {
        stat = statFile(this.#paths[p]);
      } catch {
        stat = null;
      }
      this.#pathStat[p] = stat;
      const memo = memos[k];
      if (stat && memo && sameStat(stat, memo)) this.#pathDigest[p] = memo.digest;
    }
    this.#stats.filesStatted += wanted.length;
  }

  /**
   * Step 0 of the header: true (and the task marked fast, its output digest known) if the partition index
   * vouches for it. Where it cannot decide the task (an input changed, its record is due for its last-use
   * update, the declaration changed), each input whose stats still match the entry has its digest from it:
   * the entry records only inputs outside the racy window, as a stat memo does, with the same stat fields.
   * That is why tasks the index covers need no stat memos of their own (`#coveredByIndex`). Inputs that do
   * not match are statted again with the rest.
   */
  #decideFromIndex(i: number): boolean {
    const g = this.#g;
    if (this.#o.forced[i] || g.deps[i].length > 0) return false;
    const entry = this.#index.get(g.ids[i]);
    const files = g.tasks[i].files;
    // A bit per input (below): a task with more than 31 inputs takes the ordinary path.
    if (!entry || entry.digests.length !== files.length || files.length > 31) return false;
    const stats = new Array<FileStat | undefined>(files.length);
    let matching = 0; // bit f: input f is as the entry saw it
    try {
      for (let f = 0; f < files.length; f++) {
        stats[f] = statFile(files[f].path);
        if (statText(stats[f]) === entry.stats[f]) matching |= 1 << f;
      }
    } catch {
      return false;
    }
    this.#stats.filesStatted += files.length;
    if (matching === 0 && files.length > 0) return false;
    const all = matching === 2 ** files.length - 1;
    if (!all || !(Date.now() - entry.usedAt < TOUCH_INTERVAL_MS) || computeKey(g.tasks[i], this.#fileNames(i), entry.digests, [], []) !== entry.key) {
      for (let f = 0; f < files.length; f++) {
        if (matching & (1 << f)) this.#vouched.push([this.#pathId(files[f].path), stats[f], entry.digests[f]]);
      }
      return false;
    }
    this.#fast[i] = 1;
    this.#digest[i] = entry.out;
    return true;
  }

  /**
   * True when a task's inputs are carried by the partition index once it finishes (a task without
   * dependencies, in a store that keeps an index, that published no files last time): their stat memos
   * would restate the index entry, so they are not written (a cold build writes 3,400 memo rows fewer).
   * Should the index be lost (a run killed after invalidating), the next run hashes those inputs again.
   */
  #coveredByIndex(i: number): boolean {
    if (this.#o.store.putIndex === undefined || this.#g.deps[i].length > 0) return false;
    const published = this.#record[i]?.output.files;
    if (published) for (const _ in published) return false;
    return true;
  }

  /**
   * Brings the partition index up to date with this run (entries of tasks that ran, were re-hashed or
   * failed; ids no longer in the graph dropped) and stores it if anything changed or records were deleted.
   */
  async #writeIndex(order: readonly number[]): Promise<void> {
    const store = this.#o.store;
    if (!store.putIndex) return;
    const g = this.#g;
    const index = this.#index;
    const changes = new Map<string, IndexEntry | null>();
    for (const id of index.keys()) {
      if (g.indexOf(id) === undefined) {
        index.delete(id);
        changes.set(id, null);
      }
    }
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (const i of order) {
      if (this.#fast[i] || g.deps[i].length > 0) continue;
      const id = g.ids[i];
      const entry = this.#indexEntry(i, nowNs);
      const old = index.get(id);
      if (entry === undefined) {
        if (old !== undefined) {
          index.delete(id);
          changes.set(id, null);
        }
      } else if (old === undefined || old.key !== entry.key || old.out !== entry.out || old.usedAt !== entry.usedAt || !sameList(old.stats, entry.stats) || !sameList(old.digests, entry.digests)) {
        index.set(id, entry);
        changes.set(id, entry);
      }
    }
    if (changes.size === 0 && !this.#indexDropped) return;
    this.#loadedIndex ??= { entries: index, generation: 0, hasBase: false, delta: new Map() };
    for (const [name, text] of indexWrites(this.#loadedIndex, changes, this.#indexDropped)) await store.putIndex(name, text);
  }

  /**
   * The index entry a finished task earns, or undefined (not finished well, publishes files, an input of
   * unknown state). An input inside the racy window is entered as unknown (see `partition-index.ts`).
   */
  #indexEntry(i: number, nowNs: bigint): IndexEntry | undefined {
    const status = this.#status[i];
    const record = this.#record[i];
    if ((status !== 'cached' && status !== 'executed') || !record) return undefined;
    for (const _ in record.output.files) return undefined;
    const files = this.#g.tasks[i].files;
    const taskPaths = this.#taskPaths[i];
    const stats = new Array<string>(files.length);
    const digests = new Array<Digest | 'absent'>(files.length);
    for (let f = 0; f < files.length; f++) {
      const p = taskPaths[f];
      const stat = this.#pathStat[p];
      if (stat === null) return undefined;
      if (stat === undefined) {
        stats[f] = statText(undefined);
        digests[f] = 'absent';
        continue;
      }
      const digest = this.#pathDigest[p];
      if (digest === undefined || record.files[files[f].name]?.digest !== digest) return undefined;
      stats[f] = isMemoizable(stat, nowNs) ? statText(stat) : UNKNOWN_STAT;
      digests[f] = digest;
    }
    return { key: record.key, out: record.output.digest, usedAt: record.usedAt, stats, digests };
  }

  #pathId(path: string): number {
    let id = this.#pathIndex.get(path);
    if (id === undefined) {
      id = this.#paths.length;
      this.#paths.push(path);
      this.#pathIndex.set(path, id);
    }
    return id;
  }

  // ---------------------------------------------------------------- the loop

  async #loop(): Promise<void> {
    let yieldedAt = performance.now();
    for (;;) {
      // Tasks whose run functions are synchronous chain through microtasks only, so without this the
      // event loop (and with it SIGINT, timers, progress) would not turn until the whole build is done.
      if (performance.now() - yieldedAt >= YIELD_EVERY_MS) {
        await new Promise(setImmediate);
        yieldedAt = performance.now();
      }
      this.#drain();
      this.#pump();
      if (this.#readyHead < this.#ready.length) continue; // the pump skipped tasks, readying their dependents
      if (this.#fatal !== undefined && this.#active === 0 && !this.#invalidating) return;
      const idle = this.#active === 0 && !this.#invalidating && this.#readyHead === this.#ready.length;
      if (idle && this.#nextJob(false) === undefined) return;
      await this.#sleep();
    }
  }

  #wake(): void {
    this.#woken = true;
    this.#wakeResolve?.();
  }

  async #sleep(): Promise<void> {
    if (!this.#woken) await new Promise<void>((resolve) => (this.#wakeResolve = resolve));
    this.#wakeResolve = undefined;
    this.#woken = false;
  }

  #stop(why: 'interrupted' | 'failed'): void {
    this.#stopping ??= why;
    if (why === 'interrupted') this.#controller.abort(new PipelineError('interrupted', 'usage', 'the run was interrupted'));
    this.#wake();
  }

  /** Resolves every ready task; synchronous, so a no-op build is a plain loop. */
  #drain(): void {
    while (this.#readyHead < this.#ready.length) this.#resolve(this.#ready[this.#readyHead++]);
  }

  #nextJob(take: boolean): Job | undefined {
    if (this.#urgent.length > 0) return take ? this.#urgent.shift() : this.#urgent[0];
    if (this.#jobsHead < this.#jobs.length) return take ? this.#jobs[this.#jobsHead++] : this.#jobs[this.#jobsHead];
    return undefined;
  }

  #pump(): void {
    if (this.#committer?.error !== undefined) this.#fatal ??= this.#committer.error;
    while (this.#active < this.#o.jobs && this.#fatal === undefined) {
      const job = this.#nextJob(false);
      if (!job) return;
      if (this.#stopping) {
        this.#nextJob(true);
        this.#skip(job.task, this.#stopping === 'interrupted' ? 'interrupted' : 'not started: an earlier task failed');
        continue;
      }
      if (job.type === 'exec' && this.#stored[job.task] && !this.#invalidated[job.task]) {
        if (!this.#invalidating) this.#invalidate();
        return;
      }
      this.#nextJob(true);
      this.#active++;
      this.#start(job).then(
        () => {
          this.#active--;
          this.#wake();
        },
        (error: unknown) => {
          this.#fatal ??= error;
          this.#active--;
          this.#wake();
        },
      );
    }
  }

  /** Deletes the records of every queued task about to run, as one batch, before any of them starts. */
  #invalidate(): void {
    const tasks: number[] = [];
    const collect = (job: Job): void => {
      if (job.type === 'exec' && this.#stored[job.task] && !this.#invalidated[job.task]) tasks.push(job.task);
    };
    this.#urgent.forEach(collect);
    for (let k = this.#jobsHead; k < this.#jobs.length; k++) collect(this.#jobs[k]);
    this.#invalidating = true;
    this.#indexDropped = true;
    this.#o.store.deleteRecords(tasks.map((i) => this.#g.ids[i])).then(
      () => {
        for (const i of tasks) this.#invalidated[i] = 1;
        this.#invalidating = false;
        this.#wake();
      },
      (error: unknown) => {
        this.#fatal ??= error;
        this.#invalidating = false;
        this.#wake();
      },
    );
  }

  async #start(job: Job): Promise<void> {
    switch (job.type) {
      case 'decide':
        return this.#decideAfterHashing(job.task);
      case 'restore':
        return this.#restore(job.task);
      case 'exec':
        return this.#exec(job.task);
      default: {
        const never: never = job.type;
        throw new Error(`unknown job ${String(never)}`);
      }
    }
  }

  // ---------------------------------------------------------------- deciding

  #resolve(i: number): void {
    this.#phase[i] = Phase.Resolving;
    const g = this.#g;
    for (const dep of g.deps[i]) {
      const status = this.#status[dep];
      if (status === 'failed' || status === 'skipped') {
        this.#skip(i, `upstream ${g.ids[dep]} ${status === 'failed' ? 'failed' : 'was skipped'}`);
        return;
      }
    }
    if (this.#o.forced[i]) return this.#toRun(i, [{ field: 'forced' }]);
    if (this.#fast[i]) {
      if (this.#dry) return this.#plan(i, 'fresh', []);
      this.#status[i] = 'cached';
      return this.#finish(i);
    }
    if (!this.#usable[i]) {
      return this.#toRun(i, [{ field: 'record', detail: this.#record[i] ? 'outputs-missing' : 'absent' }]);
    }
    const task = g.tasks[i];
    const paths = this.#taskPaths[i];
    let needsHashing = false;
    for (let f = 0; f < paths.length; f++) {
      const p = paths[f];
      const stat = this.#pathStat[p];
      if (stat === undefined) {
        if (!task.files[f].optional) {
          return this.#toRun(i, [{ field: 'missing-input', name: task.files[f].name, path: this.#paths[p] }]);
        }
      } else if (this.#pathDigest[p] === undefined) needsHashing = true;
    }
    if (needsHashing) {
      this.#jobs.push({ type: 'decide', task: i });
      return;
    }
    this.#decide(i, this.#currentFileDigests(i));
  }

  #currentFileDigests(i: number): (Digest | 'absent')[] {
    const paths = this.#taskPaths[i];
    const out = new Array<Digest | 'absent'>(paths.length);
    for (let f = 0; f < paths.length; f++) {
      const p = paths[f];
      out[f] = this.#pathStat[p] === undefined ? 'absent' : this.#pathDigest[p]!;
    }
    return out;
  }

  /** Upstream ids and output digests of a task (a dry run assumes an unknown upstream output unchanged). */
  #depState(i: number, assumePrevious: boolean): [string[], Digest[]] {
    const g = this.#g;
    const deps = g.deps[i];
    const depIds = new Array<string>(deps.length);
    const depDigests = new Array<Digest>(deps.length);
    const previous = this.#record[i]?.deps;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k];
      depIds[k] = g.ids[d];
      depDigests[k] =
        assumePrevious && this.#unknownOutput[d] ? (previous?.[g.ids[d]] ?? this.#record[d]?.output.digest ?? 'unknown') : this.#digest[d]!;
    }
    return [depIds, depDigests];
  }

  #fingerprint(i: number, fileDigests: readonly (Digest | 'absent')[], assumePrevious: boolean): Fingerprint {
    const task = this.#g.tasks[i];
    const [depIds, depDigests] = this.#depState(i, assumePrevious);
    const files = task.files.map((file, f) => ({ name: file.name, path: file.path, digest: fileDigests[f] }));
    return makeFingerprint(task, files, depIds, depDigests);
  }

  /** Decides a task whose input digests are all known: hit, or run with the reasons. */
  #decide(i: number, fileDigests: readonly (Digest | 'absent')[]): void {
    const g = this.#g;
    const task = g.tasks[i];
    const record = this.#record[i]!;
    const unknownDeps = this.#dry ? g.deps[i].filter((d) => this.#unknownOutput[d]) : [];
    const [depIds, depDigests] = this.#depState(i, unknownDeps.length > 0);
    // The key alone on the hot path; the full fingerprint only when there is a difference to explain.
    const key = computeKey(task, this.#fileNames(i), fileDigests, depIds, depDigests);
    if (key !== record.key) {
      const current = this.#fingerprint(i, fileDigests, unknownDeps.length > 0);
      this.#toRun(i, diffFingerprint(record, current, new Set(unknownDeps.map((d) => g.ids[d]))));
      return;
    }
    if (unknownDeps.length > 0) {
      // Dry run: fresh on its own, but an upstream would re-run first and might change its output.
      const changes: Change[] = unknownDeps.map((d) => ({ field: 'dep', id: g.ids[d], old: record.deps[g.ids[d]], new: 'unknown' }));
      this.#plan(i, 'run-if-upstream-changes', changes);
      return;
    }
    this.#hit(i, record);
  }

  #fileNames(i: number): string[] {
    let names = this.#names[i];
    if (names === undefined) this.#names[i] = names = this.#g.tasks[i].files.map((file) => file.name);
    return names;
  }

  async #decideAfterHashing(i: number): Promise<void> {
    const task = this.#g.tasks[i];
    let reads: (InputRead | undefined)[];
    try {
      reads = this.#readInputs(i, new Array<InputRead | undefined>(task.files.length).fill(undefined), true);
    } catch (error) {
      // Reading failed: the execution path reads again and reports it as this task's failure.
      this.#toRun(i, [], `cannot read its inputs: ${(error as Error).message}`);
      return;
    }
    this.#preread.set(i, reads);
    const missing = reads.findIndex((r, f) => r?.bytes === null && !task.files[f].optional);
    if (missing >= 0) {
      const file = task.files[missing];
      this.#toRun(i, [{ field: 'missing-input', name: file.name, path: file.path }]);
    } else {
      const known = this.#currentFileDigests(i);
      this.#decide(i, reads.map((r, f) => r?.digest ?? known[f]));
    }
    // Keep the bytes only for a task queued to execute (the read-once rule); a hit or a plan drops them.
    if (this.#dry || this.#phase[i] === Phase.Done) this.#preread.delete(i);
  }

  #hit(i: number, record: TaskRecord): void {
    for (const [rel, digest] of Object.entries(record.output.files)) {
      const target = outputPath(this.#o.outDir, rel);
      const p = 'path' in target ? this.#pathIndex.get(target.path) : undefined;
      if (p !== undefined && this.#pathStat[p] && this.#pathDigest[p] === digest) continue;
      if (this.#dry) {
        // A dry run does not read published files: a file that is gone, or whose stat no longer matches
        // the one recorded when it was written (a hand edit), is one the real run checks and restores.
        this.#digest[i] = record.output.digest;
        const why = p !== undefined && this.#pathStat[p] === undefined ? 'is missing' : 'was changed since it was written';
        this.#plan(i, 'fresh', [], `up to date; ${rel} ${why}: would restore it from the cache`);
        return;
      }
      this.#preread.delete(i);
      this.#jobs.push({ type: 'restore', task: i });
      return;
    }
    this.#finishCached(i, record);
  }

  #finishCached(i: number, record: TaskRecord, restored?: string[]): void {
    this.#digest[i] = record.output.digest;
    if (this.#dry) {
      this.#plan(i, 'fresh', []);
      return;
    }
    const now = Date.now();
    if (!(now - (record.usedAt ?? 0) < TOUCH_INTERVAL_MS)) this.#committer!.touch((this.#record[i] = { ...record, usedAt: now }));
    this.#status[i] = 'cached';
    if (restored && restored.length > 0) {
      this.#restored[i] = restored;
      this.#reason[i] = `restored ${restored.join(', ')} from the cache`;
    }
    this.#finish(i);
  }

  /** The task must run: in a dry run that is the answer; otherwise queue it. */
  #toRun(i: number, changes: Change[], reason?: string): void {
    if (this.#dry) {
      this.#plan(i, 'run', changes, reason);
      return;
    }
    this.#queueExec(i, changes, reason);
  }

  #queueExec(i: number, changes: Change[], reason?: string): void {
    this.#changes[i] = changes;
    this.#reason[i] = reason ?? summarizeChanges(changes);
    // After hashing (a decide job), run next so the bytes read are not held long.
    (this.#preread.has(i) ? this.#urgent : this.#jobs).push({ type: 'exec', task: i });
  }

  #plan(i: number, action: PlannedAction, changes: Change[], reason?: string): void {
    this.#action[i] = action;
    this.#changes[i] = changes;
    this.#reason[i] = reason ?? summarizeChanges(changes);
    if (action !== 'fresh') this.#unknownOutput[i] = 1;
    this.#finish(i);
  }

  #skip(i: number, reason: string): void {
    this.#preread.delete(i);
    if (this.#dry) {
      this.#plan(i, 'run', [], reason);
      return;
    }
    this.#status[i] = 'skipped';
    this.#reason[i] = reason;
    this.#finish(i);
  }

  #finish(i: number): void {
    const g = this.#g;
    this.#phase[i] = Phase.Done;
    const now = performance.now();
    this.#ms[i] = now - this.#readyAt[i];
    if (!this.#dry) {
      this.#emit({
        type: 'task-end',
        id: g.ids[i],
        kind: g.tasks[i].kind,
        status: this.#status[i]!,
        ms: Math.round(this.#ms[i]),
        ...(this.#reason[i] !== undefined && { reason: this.#reason[i] }),
        ...(this.#error[i] !== undefined && { error: this.#error[i] }),
        ...(this.#restored[i] !== undefined && { restored: this.#restored[i] }),
        ...(this.#notes[i] !== undefined && this.#notes[i]!.length > 0 && { notes: this.#notes[i] }),
      });
    }
    for (const dep of g.deps[i]) {
      if (--this.#consumers[dep] <= 0) this.#values.delete(dep);
    }
    for (const next of g.dependents[i]) {
      if (this.#o.selected[next] && --this.#waiting[next] === 0) {
        this.#readyAt[next] = now;
        this.#ready.push(next);
      }
    }
    if (this.#status[i] === 'failed' && this.#o.keepGoing === false) this.#stop('failed');
  }

  // ---------------------------------------------------------------- reading inputs

  /**
   * Reads and hashes a task's input files, each at most once per run: entries already in `reads` are
   * kept, and with `onlyUnknown` only files whose digest the stat memo could not vouch for are read.
   */
  #readInputs(i: number, reads: (InputRead | undefined)[], onlyUnknown: boolean): (InputRead | undefined)[] {
    const task = this.#g.tasks[i];
    const paths = this.#taskPaths[i];
    const memos: [string, StatMemo][] = [];
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (let f = 0; f < task.files.length; f++) {
      if (reads[f] !== undefined) continue;
      const p = paths[f];
      if (onlyUnknown && (this.#pathStat[p] === undefined || this.#pathDigest[p] !== undefined)) continue;
      const path = task.files[f].path;
      const read = readFileWithStat(path, task.files[f].maxBytes);
      if (!read) {
        this.#pathStat[p] = undefined;
        reads[f] = { bytes: null, stat: undefined, digest: 'absent' };
        continue;
      }
      this.#stats.filesHashed++;
      const digest = sha256(read.bytes);
      this.#pathStat[p] = read.stat;
      this.#pathDigest[p] = digest;
      if (isMemoizable(read.stat, nowNs)) memos.push([path, memoOf(read.stat, digest)]);
      reads[f] = { bytes: read.bytes, stat: read.stat, digest };
    }
    if (memos.length > 0 && !this.#coveredByIndex(i)) this.#committer?.addMemos(memos);
    return reads;
  }

  // ---------------------------------------------------------------- executing

  async #exec(i: number): Promise<void> {
    const g = this.#g;
    const task = g.tasks[i];
    this.#readyAt[i] = performance.now();
    this.#emit({ type: 'task-start', id: g.ids[i], kind: task.kind, reason: this.#reason[i] ?? '' });
    try {
      const { digest, record } = await this.#execute(i);
      this.#digest[i] = digest;
      this.#status[i] = 'executed';
      this.#notes[i] = record.notes;
    } catch (error) {
      this.#preread.delete(i);
      this.#status[i] = 'failed';
      this.#error[i] = describeTaskError(g.ids[i], error);
    }
    this.#finish(i);
  }

  /** Runs a task and queues its commit; throws (uncommitted) on any failure. */
  async #execute(i: number): Promise<{ digest: Digest; record: TaskRecord }> {
    const g = this.#g;
    const task = g.tasks[i];
    const id = g.ids[i];
    const startedAt = performance.now();
    const upstream = await this.#loadUpstream(i);
    const reads = this.#readInputs(i, this.#preread.get(i) ?? new Array(task.files.length).fill(undefined), false) as InputRead[];
    this.#preread.delete(i);
    const files = new Map<string, Buffer | null>();
    task.files.forEach((file, f) => {
      if (reads[f].bytes === null && !file.optional) throw new MissingInputError(id, file.path, file.name);
      files.set(file.name, reads[f].bytes);
    });
    const fingerprint = this.#fingerprint(i, reads.map((r) => r.digest), false);
    const notes: string[] = [];
    const ctx: TaskContext = {
      id,
      params: task.params,
      files,
      upstream,
      signal: this.#controller.signal,
      note: (message: string) => void notes.push(String(message)),
    };
    const result = await task.run(ctx);
    const { valueBytes, outFiles } = encodeResult(id, result);
    for (let f = 0; f < task.files.length; f++) {
      if (!sameStat(reads[f].stat, statFile(task.files[f].path))) throw new InputChangedError(id, task.files[f].path);
    }
    const digest = sha256(valueBytes);
    const blobs: BlobWrite[] = [{ digest, bytes: valueBytes }];
    const published: Record<string, Digest> = {};
    for (const [rel, bytes] of outFiles) {
      const target = outputPath(this.#o.outDir, rel);
      if (!('path' in target)) throw new InvalidResultError(id, target.problem);
      const fileDigest = sha256(bytes);
      published[rel] = fileDigest;
      blobs.push({ digest: fileDigest, bytes });
      if (!sameContent(target.path, bytes)) await writeFileAtomic(target.path, bytes);
      await removeStaleTemporaries(target.path);
      this.#memoizeOutput(target.path, fileDigest);
    }
    const now = Date.now();
    const record: TaskRecord = {
      schema: RECORD_SCHEMA,
      toolVersion: this.#o.toolVersion,
      id,
      kind: task.kind,
      codeVersion: task.codeVersion,
      params: task.params as Json,
      files: fingerprint.files,
      deps: fingerprint.deps,
      key: fingerprint.key,
      output: { digest, size: valueBytes.byteLength, files: published },
      notes,
      durationMs: Math.round(performance.now() - startedAt),
      finishedAt: new Date(now).toISOString(),
      usedAt: now,
    };
    this.#committer!.addResult(record, blobs);
    this.#record[i] = record;
    this.#stored[i] = 1;
    this.#invalidated[i] = 0;
    if (this.#consumers[i] > 0) this.#values.set(i, valueBytes);
    return { digest, record };
  }

  /**
   * Decoded outputs of a task's upstream. Values produced in this run are decoded from the same bytes
   * that were stored, so a task sees identical input whether its upstream ran now or came from the cache.
   * A stored blob found missing or corrupt here makes that upstream run again.
   */
  async #loadUpstream(i: number): Promise<Map<string, unknown>> {
    const g = this.#g;
    const deps = g.deps[i];
    const needed = deps.filter((d) => !this.#values.has(d));
    if (needed.length > 0) {
      const read = await this.#o.store.getBlobs(needed.map((d) => this.#digest[d]!));
      this.#stats.blobsRead += read.found.size;
      for (const d of needed) {
        const bytes = read.found.get(this.#digest[d]!);
        if (bytes) this.#values.set(d, bytes);
        else await this.#rebuild(d, read.corrupt.includes(this.#digest[d]!) ? 'corrupt' : 'missing');
      }
    }
    const upstream = new Map<string, unknown>();
    for (const d of deps) upstream.set(g.ids[d], v8.deserialize(this.#values.get(d)!));
    return upstream;
  }

  /** Re-runs a resolved upstream whose stored output could not be read back. */
  async #rebuild(d: number, why: 'corrupt' | 'missing'): Promise<void> {
    const id = this.#g.ids[d];
    this.#emit({ type: 'warning', id, message: `stored output of ${id} is ${why} in the cache; running it again` });
    this.#indexDropped = true;
    // A task decided from the index has a stored record that was never read: delete it all the same.
    if (this.#stored[d] || this.#fast[d]) await this.#o.store.deleteRecords([id]);
    this.#fast[d] = 0;
    this.#stored[d] = 0;
    this.#preread.delete(d);
    const before = this.#digest[d];
    this.#consumers[d]++; // keep the rebuilt value for the task that asked for it
    try {
      const { digest } = await this.#execute(d);
      this.#digest[d] = digest;
      this.#status[d] = 'executed';
      this.#reason[d] = `stored output was ${why}; rebuilt`;
      if (before !== digest) {
        this.#emit({ type: 'warning', id, message: `${id} produced a different output when rebuilt; tasks already resolved against the old one refresh next run` });
      }
      this.#emit({ type: 'task-end', id, kind: this.#g.tasks[d].kind, status: 'executed', ms: 0, reason: this.#reason[d] });
    } catch (error) {
      throw new PipelineError('upstream-rebuild-failed', 'task', `upstream ${id} had to be rebuilt (stored output ${why}) and failed: ${describeTaskError(id, error)}`);
    } finally {
      this.#consumers[d]--;
    }
  }

  /**
   * Memoises a file we just published. Unlike inputs, no racy-window wait: we know what we wrote, and
   * the only risk is a hand edit of the same size within the same timestamp tick going unrestored.
   */
  #memoizeOutput(path: string, digest: Digest): void {
    const stat = statFile(path);
    if (stat) this.#committer!.addMemos([[path, memoOf(stat, digest)]]);
  }

  // ---------------------------------------------------------------- restoring published files

  async #restore(i: number): Promise<void> {
    const record = this.#record[i]!;
    const toRestore: [string, string, Digest][] = [];
    const memos: [string, StatMemo][] = [];
    for (const [rel, digest] of Object.entries(record.output.files)) {
      const target = outputPath(this.#o.outDir, rel);
      if (!('path' in target)) continue;
      const read = readFileWithStat(target.path);
      if (read) {
        this.#stats.filesHashed++;
        const current = sha256(read.bytes);
        if (current === digest) {
          if (isMemoizable(read.stat)) memos.push([target.path, memoOf(read.stat, digest)]);
          continue;
        }
      }
      toRestore.push([rel, target.path, digest]);
    }
    if (memos.length > 0) this.#committer!.addMemos(memos);
    if (toRestore.length > 0) {
      const blobs = await this.#o.store.getBlobs(toRestore.map(([, , digest]) => digest));
      this.#stats.blobsRead += blobs.found.size;
      if (blobs.missing.length > 0 || blobs.corrupt.length > 0) {
        const why = blobs.corrupt.length > 0 ? 'corrupt' : 'missing';
        this.#emit({ type: 'warning', id: this.#g.ids[i], message: `a published file of ${this.#g.ids[i]} is ${why} in the cache; running the task again` });
        this.#queueExec(i, [{ field: 'record', detail: 'outputs-missing' }], `stored output file ${why}; rebuilding`);
        return;
      }
      for (const [, path, digest] of toRestore) {
        await writeFileAtomic(path, blobs.found.get(digest)!);
        this.#memoizeOutput(path, digest);
      }
    }
    this.#finishCached(i, record, toRestore.map(([rel]) => rel));
  }

  // ---------------------------------------------------------------- result

  #result(order: readonly number[]): BuildResult {
    const g = this.#g;
    const outcomes: TaskOutcome[] = [];
    const planned: PlannedTask[] = [];
    for (const i of order) {
      if (this.#dry) {
        planned.push({
          id: g.ids[i],
          kind: g.tasks[i].kind,
          action: this.#action[i] ?? 'run',
          reason: this.#reason[i] ?? '',
          changes: this.#changes[i] ?? [],
        });
        continue;
      }
      outcomes.push({
        id: g.ids[i],
        kind: g.tasks[i].kind,
        status: this.#status[i] ?? 'skipped',
        ms: Math.round(this.#ms[i]),
        ...(this.#reason[i] !== undefined && { reason: this.#reason[i] }),
        ...(this.#error[i] !== undefined && { error: this.#error[i] }),
        ...(this.#restored[i] !== undefined && { restored: this.#restored[i] }),
        ...(this.#notes[i] !== undefined && this.#notes[i]!.length > 0 && { notes: this.#notes[i] }),
      });
    }
    return { outcomes, planned, interrupted: this.#stopping === 'interrupted', stats: this.#stats };
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** A stored record with the fields the engine reads (an older or damaged layout is treated as a miss). */
function isRecord(value: unknown): value is TaskRecord {
  const r = value as TaskRecord | undefined;
  return (
    typeof r === 'object' && r !== null && typeof r.key === 'string' && typeof r.output?.digest === 'string' &&
    typeof r.output.files === 'object' && typeof r.files === 'object' && typeof r.deps === 'object'
  );
}

/** Serialises a run function's result, with a clear error when it is not storable. */
function encodeResult(id: string, result: TaskResult): { valueBytes: Buffer; outFiles: [string, Uint8Array][] } {
  if (result === null || typeof result !== 'object' || !('value' in result)) {
    throw new InvalidResultError(id, 'expected an object { value, files? }');
  }
  let valueBytes: Buffer;
  try {
    valueBytes = v8.serialize(result.value);
  } catch (error) {
    throw new InvalidResultError(id, `the value cannot be serialised (${(error as Error).message}); return plain data, arrays, typed arrays and Maps`);
  }
  const outFiles: [string, Uint8Array][] = [];
  if (result.files !== undefined) {
    if (result.files === null || typeof result.files !== 'object') throw new InvalidResultError(id, 'files must be an object of relative path → bytes');
    for (const [rel, bytes] of Object.entries(result.files)) {
      // A tag check, not instanceof: bytes made in another realm (a vm context, jest) are still bytes.
      if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]') {
        throw new InvalidResultError(id, `file ${rel} is not a Uint8Array (or Buffer)`);
      }
      outFiles.push([rel, bytes]);
    }
  }
  return { valueBytes, outFiles };
}

/** True if the file at `path` already holds exactly `bytes` (so publishing would change nothing). */
function sameContent(path: string, bytes: Uint8Array): boolean {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (!stats || !stats.isFile() || stats.size !== bytes.byteLength) return false;
  return readFileSync(path).equals(bytes);
}

/** The message of a failed task: typed errors keep theirs; others get the task id (and file, if known). */
export function describeTaskError(id: string, error: unknown): string {
  if (error instanceof PipelineError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  const file = (error as { file?: unknown } | null)?.file;
  const where = typeof file === 'string' && !message.includes(file) ? ` (file ${file})` : '';
  // An input the engine could not read (EACCES, ELOOP, ...): the system message names the path, not the fix.
  const fix = fileSystemFix((error as NodeJS.ErrnoException | null)?.code);
  const advice = fix ? `\n  fix: ${fix}` : '';
  return message.includes(id) ? `${message}${where}${advice}` : `task ${id} failed: ${message}${where}${advice}`;
}

export type { TaskDeclaration };
