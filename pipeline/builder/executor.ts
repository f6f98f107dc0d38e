/**
 * What a decided task leads to, as two strategies over the same planner: `RealExecutor` runs, restores,
 * commits and reports; `DryExecutor` only says what would happen (same lookups, same decisions, same
 * reasons), writing nothing.
 *
 * Commit protocol of an executed task (real): inputs are read once and hashed before it runs (those
 * bytes are what it sees); its previous record stays until a replacement is committed (a record is only
 * valid for its own key, so an old one never vouches for new inputs, and a run killed at any point leaves
 * every result that was valid before it valid); after it returns, its inputs are re-stat'ed (a change
 * fails the task, uncommitted); its files are published (temporary name, then rename, only when the
 * content differs); its blobs then its record go to the group committer. A failed task commits nothing
 * and its dependents are skipped; other work continues.
 */
import { readFileSync, statSync } from 'node:fs';
import { sha256, type Digest } from '../../cache/digest.js';
import { RECORD_SCHEMA, type TaskRecord } from '../../cache/record.js';
import type { BlobWrite, StatMemo } from '../../cache/store.js';
import { GroupCommitter } from '../committer.js';
import { fileSystemFix, InputChangedError, InvalidResultError, MissingInputError, PipelineError } from '../errors.js';
import type { PlannedAction } from '../events.js';
import { isMemoizable, memoOf, readFileWithStat, sameStat, statFile } from '../file-state.js';
import { keyedCodeVersion, type Change } from '../fingerprint.js';
import { canonicalJson } from '../../util/json.js';
import { outputPath, removeStaleTemporaries, writeFileAtomic } from '../publish.js';
import type { Json, PreviousResult, TaskContext, TaskDeclaration, TaskResult } from '../task.js';
import { codecOf, encodeValue, LazyUpstream } from '../values.js';
import type { BuildContext } from './context.js';
import { TOUCH_INTERVAL_MS, type IndexFastPath } from './index-fast-path.js';
import { readInputs } from './inputs.js';
import { Offload } from './offload.js';
import type { BuildResult, InputRead, Job } from './types.js';

/**
 * A task without dependencies (3,380 of the 3,388 of the full collections) gets this one empty upstream,
 * without a fetch or an await: it never changes (an unknown id reads as undefined, never as a miss).
 */
const NO_UPSTREAM = new LazyUpstream([]);
const NOT_PATCHING = [undefined];

/** What the executors need of the planner. */
export interface PlannerHost {
  /** The task is settled: release its dependents. */
  finish(i: number): void;
  /** Dry run: record what would happen, and settle it. */
  plan(i: number, action: PlannedAction, changes: Change[], reason?: string): void;
  /** The key fields of task `i` as they are now (for its record). */
  fingerprint(i: number, fileDigests: readonly (Digest | 'absent')[]): { codeVersion: string; files: TaskRecord['files']; deps: TaskRecord['deps']; key: Digest };
  /** Queue a job for the pool. */
  queue(job: Job, urgent?: boolean): void;
}

export interface Executor {
  /** A dry run assumes an upstream that would run keeps its output (`run-if-upstream-changes`). */
  readonly assumesUnknownUpstream: boolean;
  /** Whether the bytes read while deciding are kept for an execution that follows. */
  readonly keepsReads: boolean;
  /** The partition index vouched for the task. */
  fast(i: number): void;
  /** The task must run, for these changes. */
  toRun(i: number, changes: Change[], reason?: string): void;
  /** Fresh, but published file `rel` is not as recorded (p: its path number, if known); true if handled. */
  outputDiffers(i: number, record: TaskRecord, rel: string, p: number | undefined): boolean;
  /** Fresh and whole. */
  cached(i: number, record: TaskRecord, restored?: string[]): void;
  /** It will not start (its upstream failed, or the run is stopping). */
  skip(i: number, reason: string): void;
  /** Stat memos of inputs just read. */
  memoize(i: number, memos: [string, StatMemo][]): void;
  /** A job from the pool: restore published files, or execute. */
  start(job: Job): Promise<void>;
  /** Whether a job mostly waits on another thread (it then takes no slot of the pool: see `scheduler.ts`). */
  isLight(job: Job): boolean;
  /** An error found in the background (a failed commit batch). */
  backgroundError(): unknown;
  /** After the loop: make everything durable. */
  complete(order: readonly number[], fatal: boolean): Promise<void>;
  /** The build is over, however it ended: stop the offload thread. */
  close(): void;
  result(order: readonly number[], interrupted: boolean): BuildResult;
}

export class DryExecutor implements Executor {
  readonly assumesUnknownUpstream = true;
  readonly keepsReads = false;
  constructor(
    private readonly c: BuildContext,
    private readonly host: PlannerHost,
  ) {}

  fast(i: number): void {
    this.host.plan(i, 'fresh', []);
  }
  toRun(i: number, changes: Change[], reason?: string): void {
    this.host.plan(i, 'run', changes, reason);
  }
  outputDiffers(i: number, record: TaskRecord, rel: string, p: number | undefined): boolean {
    // A dry run does not read published files: a file that is gone, or whose stat no longer matches
    // the one recorded when it was written (a hand edit), is one the real run checks and restores.
    this.c.t.digest[i] = record.output.digest;
    const why = p !== undefined && this.c.files.stat[p] === undefined ? 'is missing' : 'was changed since it was written';
    this.host.plan(i, 'fresh', [], `up to date; ${rel} ${why}: would restore it from the cache`);
    return true;
  }
  cached(i: number, record: TaskRecord): void {
    this.c.t.digest[i] = record.output.digest;
    this.host.plan(i, 'fresh', []);
  }
  skip(i: number, reason: string): void {
    this.host.plan(i, 'run', [], reason);
  }
  memoize(): void {}
  async start(job: Job): Promise<void> {
    throw new Error(`a dry run queued a ${job.type} job`);
  }
  isLight(): boolean {
    return false;
  }
  backgroundError(): unknown {
    return undefined;
  }
  async complete(): Promise<void> {}
  close(): void {}
  result(order: readonly number[], interrupted: boolean): BuildResult {
    return { outcomes: [], planned: order.map((i) => this.c.t.planned(i)), interrupted, stats: this.c.stats };
  }
}

export class RealExecutor implements Executor {
  readonly assumesUnknownUpstream = false;
  readonly keepsReads = true;
  readonly #committer: GroupCommitter;
  readonly #offload: Offload;
  /** Offloadable tasks queued to execute so far (the thread is started once there are enough). */
  #offloadable = 0;

  constructor(
    private readonly c: BuildContext,
    private readonly host: PlannerHost,
    private readonly index: IndexFastPath,
  ) {
    this.#committer = new GroupCommitter(c.o.store, {
      ...c.o.commit,
      onCommitted: (ids) => {
        c.stats.commits++;
        c.emit({ type: 'committed', ids });
      },
    });
    this.#offload = new Offload(c.o.offload ?? 0);
  }

  fast(i: number): void {
    this.c.t.status[i] = 'cached';
    this.host.finish(i);
  }

  toRun(i: number, changes: Change[], reason?: string): void {
    const t = this.c.t;
    t.changes[i] = changes;
    t.reason[i] = reason ?? this.c.o.describe(changes);
    if (this.#canOffload(i)) this.#offloadable++;
    // After hashing (a decide job), run next so the bytes read are not held long.
    this.host.queue({ type: 'exec', task: i }, this.c.preread.has(i));
  }

  outputDiffers(i: number): boolean {
    this.c.preread.delete(i);
    this.host.queue({ type: 'restore', task: i });
    return true;
  }

  cached(i: number, record: TaskRecord, restored?: string[]): void {
    const t = this.c.t;
    t.digest[i] = record.output.digest;
    const now = Date.now();
    if (!(now - (record.usedAt ?? 0) < TOUCH_INTERVAL_MS)) this.#committer.touch((t.record[i] = { ...record, usedAt: now }));
    t.status[i] = 'cached';
    if (restored && restored.length > 0) {
      t.restored[i] = restored;
      t.reason[i] = `restored ${restored.join(', ')} from the cache`;
    }
    this.host.finish(i);
  }

  skip(i: number, reason: string): void {
    this.c.t.status[i] = 'skipped';
    this.c.t.reason[i] = reason;
    this.host.finish(i);
  }

  memoize(i: number, memos: [string, StatMemo][]): void {
    if (!this.index.covers(i)) this.#committer.addMemos(memos);
  }

  async start(job: Job): Promise<void> {
    if (job.type === 'restore') return this.#restore(job.task);
    if (job.type === 'exec') return this.#exec(job.task, job.light === true);
    throw new Error(`the executor got a ${job.type} job`);
  }

  isLight(job: Job): boolean {
    return job.type === 'exec' && this.#canOffload(job.task) && this.#offload.use(this.#offloadable, this.c.g.tasks[job.task].offload!.module);
  }

  backgroundError(): unknown {
    return this.#committer.error;
  }

  async complete(order: readonly number[], fatal: boolean): Promise<void> {
    this.c.stats.offloaded = this.#offload.offloaded;
    this.#offload.close();
    await this.#committer.flush();
    if (!fatal) await this.index.write(order);
  }

  close(): void {
    this.#offload.close();
  }

  result(order: readonly number[], interrupted: boolean): BuildResult {
    return { outcomes: order.map((i) => this.c.t.outcome(i)), planned: [], interrupted, stats: this.c.stats };
  }

  /** A task whose run may be made on the offload thread: it has an `offload`, no dependencies and no previous result to patch. */
  #canOffload(i: number): boolean {
    const task = this.c.g.tasks[i];
    return task.offload !== undefined && this.c.g.deps[i].length === 0 && task.incremental !== true;
  }

  // ---------------------------------------------------------------- executing

  async #exec(i: number, light = false): Promise<void> {
    const { g, t } = this.c;
    const task = g.tasks[i];
    t.readyAt[i] = performance.now();
    this.c.emit({ type: 'task-start', id: g.ids[i], kind: task.kind, reason: t.reason[i] ?? '' });
    try {
      const { digest, record } = await this.#execute(i, light);
      t.digest[i] = digest;
      t.status[i] = 'executed';
      t.notes[i] = record.notes;
    } catch (error) {
      this.c.preread.delete(i);
      t.status[i] = 'failed';
      t.error[i] = describeTaskError(g.ids[i], error);
    }
    this.host.finish(i);
  }

  /**
   * Runs a task (on the offload thread if its job is light and the thread takes it) and queues its commit;
   * throws (uncommitted) on any failure.
   */
  async #execute(i: number, light = false): Promise<{ digest: Digest; record: TaskRecord }> {
    const c = this.c;
    const { g, t } = c;
    const task = g.tasks[i];
    const id = g.ids[i];
    const startedAt = performance.now();
    const previous = task.incremental === true ? await this.#loadPrevious(i) : null;
    const memoize = (k: number, memos: [string, StatMemo][]): void => this.memoize(k, memos);
    const reads = readInputs(c, i, c.preread.get(i) ?? new Array(task.files.length).fill(undefined), false, memoize) as InputRead[];
    c.preread.delete(i);
    const files = new Map<string, Buffer | null>();
    task.files.forEach((file, f) => {
      if (reads[f].bytes === null && !file.optional) throw new MissingInputError(id, file.path, file.name);
      files.set(file.name, reads[f].bytes);
    });
    const fingerprint = this.host.fingerprint(i, reads.map((r) => r.digest));
    const offloaded = light ? await this.#offload.run(task.offload!.module, task.offload!.args, files) : undefined;
    const { valueBytes, outFiles, notes } = offloaded ? { valueBytes: offloaded.value, outFiles: [], notes: offloaded.notes } : await this.#runHere(i, files, previous);
    // The store may start encoding the files (deflating an export's 5.9 MB took ~30 ms on the thread pool,
    // which the last commit waited out) while they are hashed and published here.
    if (outFiles.length > 0) c.o.store.prepareBlobs?.(outFiles.map(([, bytes]) => bytes));
    for (let f = 0; f < task.files.length; f++) {
      if (!sameStat(reads[f].stat, statFile(task.files[f].path))) throw new InputChangedError(id, task.files[f].path);
    }
    const digest = sha256(valueBytes);
    const blobs: BlobWrite[] = [{ digest, bytes: valueBytes }];
    const published: Record<string, Digest> = {};
    const targets: [path: string, bytes: Uint8Array, digest: Digest][] = [];
    for (const [rel, bytes] of outFiles) {
      const target = outputPath(c.o.outDir, rel);
      if (!('path' in target)) throw new InvalidResultError(id, target.problem);
      const fileDigest = sha256(bytes);
      published[rel] = fileDigest;
      blobs.push({ digest: fileDigest, bytes });
      targets.push([target.path, bytes, fileDigest]);
    }
    // The files at once: each publish is a few file-system round trips on the thread pool (mkdir, write,
    // rename, a look for stale temporaries), and an export's five one after another left this thread idle.
    await Promise.all(
      targets.map(async ([path, bytes, fileDigest]) => {
        if (!sameContent(path, bytes)) await writeFileAtomic(path, bytes);
        await removeStaleTemporaries(path);
        this.#memoizeOutput(path, fileDigest);
      }),
    );
    const now = Date.now();
    const record: TaskRecord = {
      schema: RECORD_SCHEMA,
      toolVersion: c.o.toolVersion,
      id,
      kind: task.kind,
      codeVersion: fingerprint.codeVersion,
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
    this.#committer.addResult(record, blobs);
    t.record[i] = record;
    t.stored[i] = 1;
    if (t.consumers[i] > 0) c.values.set(i, valueBytes);
    return { digest, record };
  }

  /** Runs task `i` on this thread: its value encoded, its files, its notes. Throws what the run throws. */
  async #runHere(i: number, files: Map<string, Buffer | null>, previous: PreviousResult | null): Promise<{ valueBytes: Uint8Array; outFiles: [string, Uint8Array][]; notes: string[] }> {
    const c = this.c;
    const { g } = c;
    const task = g.tasks[i];
    const id = g.ids[i];
    // With a previous result, only the changed dependencies are fetched; a run that reads another one is
    // run again with all of them (see `../values.ts`).
    let notes: string[] = [];
    let result: TaskResult | undefined;
    for (const only of previous ? [previous.changed, undefined] : NOT_PATCHING) {
      notes = [];
      const upstream = g.deps[i].length === 0 ? NO_UPSTREAM : await this.#loadUpstream(i, only);
      const ctx: TaskContext = {
        id,
        params: task.params,
        files,
        upstream,
        signal: c.controller.signal,
        note: (message: string) => void notes.push(String(message)),
        previous,
      };
      try {
        result = await task.run(ctx);
      } catch (error) {
        if (!upstream.missed) throw error;
      }
      if (!upstream.missed) break;
      result = undefined;
    }
    if (result === undefined) throw new Error(`${id}: its run read upstream values that were not fetched, twice`);
    return { ...encodeResult(id, task, result), notes };
  }

  /**
   * `ctx.upstream`: the bytes of `only` (every dependency when undefined) fetched, decoded lazily (see
   * `../values.ts`). Values produced in this run are decoded from the same bytes that were stored, so a
   * task sees identical input whether its upstream ran now or came from the cache. A stored blob found
   * missing or corrupt here makes that upstream run again.
   */
  async #loadUpstream(i: number, only?: ReadonlySet<string>): Promise<LazyUpstream> {
    const { g, t, values } = this.c;
    const deps = g.deps[i];
    const needed = deps.filter((d) => !values.has(d) && (only === undefined || only.has(g.ids[d])));
    if (needed.length > 0) {
      const read = await this.c.o.store.getBlobs(needed.map((d) => t.digest[d]!));
      this.c.stats.blobsRead += read.found.size;
      for (const d of needed) {
        const bytes = read.found.get(t.digest[d]!);
        if (bytes) values.set(d, bytes);
        else await this.#rebuild(d, read.corrupt.includes(t.digest[d]!) ? 'corrupt' : 'missing');
      }
    }
    return new LazyUpstream(deps.map((d) => [g.ids[d], values.get(d), codecOf(g.tasks[d])] as const));
  }

  /**
   * `ctx.previous` of an incremental task: its last committed successful result, if it may patch from it
   * (not forced; the same kind, code version, codec and params; its value and files still in the store).
   * The record is the one loaded at the start of the run: records are only replaced by a committed
   * replacement, so it is the last good one.
   */
  async #loadPrevious(i: number): Promise<PreviousResult | null> {
    const { g, t } = this.c;
    const task = g.tasks[i];
    const record = t.record[i];
    if (!record || this.c.o.forced[i] || record.schema !== RECORD_SCHEMA || record.kind !== task.kind) return null;
    if (record.codeVersion !== keyedCodeVersion(task) || canonicalJson(record.params) !== canonicalJson(task.params)) return null;
    // A published file that still holds what was published is read from the output folder (and hashed):
    // the store keeps large files deflated, and fetching an export's 5.9 MB from it measured ~23 ms, most
    // of it inflating. Any other comes from the store.
    const files = new Map<string, Uint8Array>();
    const fromStore: [string, Digest][] = [];
    for (const [rel, digest] of Object.entries(record.output.files)) {
      const bytes = this.#publishedAsRecorded(rel, digest);
      if (bytes) files.set(rel, bytes);
      else fromStore.push([rel, digest]);
    }
    const read = await this.c.o.store.getBlobs([record.output.digest, ...fromStore.map(([, digest]) => digest)]);
    this.c.stats.blobsRead += read.found.size;
    if (read.missing.length > 0 || read.corrupt.length > 0) return null;
    const value = codecOf(task).decode(read.found.get(record.output.digest)!);
    for (const [rel, digest] of fromStore) files.set(rel, read.found.get(digest)!);
    const changed = new Set<string>();
    const current = new Set<string>();
    for (const d of g.deps[i]) {
      const id = g.ids[d];
      current.add(id);
      if (record.deps[id] !== t.digest[d]) changed.add(id);
    }
    const removed = new Set<string>();
    for (const id of Object.keys(record.deps)) if (!current.has(id)) removed.add(id);
    return { value, files, changed, removed };
  }

  /** The bytes of published file `rel` if it holds exactly what was published (`digest`), else undefined. */
  #publishedAsRecorded(rel: string, digest: Digest): Buffer | undefined {
    const target = outputPath(this.c.o.outDir, rel);
    if (!('path' in target)) return undefined;
    let read: ReturnType<typeof readFileWithStat>;
    try {
      read = readFileWithStat(target.path);
    } catch {
      return undefined; // unreadable, or not a file: the store has it
    }
    if (!read) return undefined;
    this.c.stats.filesHashed++;
    return sha256(read.bytes) === digest ? read.bytes : undefined;
  }

  /** Re-runs a resolved upstream whose stored output could not be read back. */
  async #rebuild(d: number, why: 'corrupt' | 'missing'): Promise<void> {
    const { g, t } = this.c;
    const id = g.ids[d];
    this.c.emit({ type: 'warning', id, message: `stored output of ${id} is ${why} in the cache; running it again` });
    this.index.dropped = true;
    // A task decided from the index has a stored record that was never read: delete it all the same.
    if (t.stored[d] || t.fast[d]) await this.c.o.store.deleteRecords([id]);
    t.fast[d] = 0;
    t.stored[d] = 0;
    this.c.preread.delete(d);
    const before = t.digest[d];
    t.consumers[d]++; // keep the rebuilt value for the task that asked for it
    try {
      const { digest } = await this.#execute(d);
      t.digest[d] = digest;
      t.status[d] = 'executed';
      t.reason[d] = `stored output was ${why}; rebuilt`;
      if (before !== digest) {
        this.c.emit({ type: 'warning', id, message: `${id} produced a different output when rebuilt; tasks already resolved against the old one refresh next run` });
      }
      this.c.emit({ type: 'task-end', id, kind: g.tasks[d].kind, status: 'executed', ms: 0, reason: t.reason[d] });
    } catch (error) {
      throw new PipelineError('upstream-rebuild-failed', 'task', `upstream ${id} had to be rebuilt (stored output ${why}) and failed: ${describeTaskError(id, error)}`);
    } finally {
      t.consumers[d]--;
    }
  }

  /**
   * Memoises a file we just published. Unlike inputs, no racy-window wait: we know what we wrote, and
   * the only risk is a hand edit of the same size within the same timestamp tick going unrestored.
   */
  #memoizeOutput(path: string, digest: Digest): void {
    const stat = statFile(path);
    if (stat) this.#committer.addMemos([[path, memoOf(stat, digest)]]);
  }

  // ---------------------------------------------------------------- restoring published files

  async #restore(i: number): Promise<void> {
    const record = this.c.t.record[i]!;
    const toRestore: [string, string, Digest][] = [];
    const memos: [string, StatMemo][] = [];
    for (const [rel, digest] of Object.entries(record.output.files)) {
      const target = outputPath(this.c.o.outDir, rel);
      if (!('path' in target)) continue;
      const read = readFileWithStat(target.path);
      if (read) {
        this.c.stats.filesHashed++;
        const current = sha256(read.bytes);
        if (current === digest) {
          if (isMemoizable(read.stat)) memos.push([target.path, memoOf(read.stat, digest)]);
          continue;
        }
      }
      toRestore.push([rel, target.path, digest]);
    }
    if (memos.length > 0) this.#committer.addMemos(memos);
    if (toRestore.length > 0) {
      const blobs = await this.c.o.store.getBlobs(toRestore.map(([, , digest]) => digest));
      this.c.stats.blobsRead += blobs.found.size;
      if (blobs.missing.length > 0 || blobs.corrupt.length > 0) {
        const why = blobs.corrupt.length > 0 ? 'corrupt' : 'missing';
        const id = this.c.g.ids[i];
        this.c.emit({ type: 'warning', id, message: `a published file of ${id} is ${why} in the cache; running the task again` });
        this.toRun(i, [{ field: 'record', detail: 'outputs-missing' }], `stored output file ${why}; rebuilding`);
        return;
      }
      for (const [, path, digest] of toRestore) {
        await writeFileAtomic(path, blobs.found.get(digest)!);
        this.#memoizeOutput(path, digest);
      }
    }
    this.cached(i, record, toRestore.map(([rel]) => rel));
  }
}

/** Encodes a run function's result, with a clear error when it is not storable. */
function encodeResult(id: string, task: TaskDeclaration, result: TaskResult): { valueBytes: Uint8Array; outFiles: [string, Uint8Array][] } {
  if (result === null || typeof result !== 'object' || !('value' in result)) {
    throw new InvalidResultError(id, 'expected an object { value, files? }');
  }
  const valueBytes = encodeValue(id, task, result.value);
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
