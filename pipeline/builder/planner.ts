/**
 * Steps 1 and 2 of the build (see `index.ts`): load what can decide tasks, then decide each task as its
 * upstream resolves (hit, or run with the reasons); what a decision leads to is the executor's.
 */
import type { Digest } from '../../cache/digest.js';
import { blobsOfRecord, type TaskRecord } from '../../cache/record.js';
import type { PlannedAction } from '../events.js';
import { sameStat, statFile, type FileStat } from '../file-state.js';
import { computeKey, diffFingerprint, makeFingerprint, type Change, type Fingerprint } from '../fingerprint.js';
import { outputPath } from '../publish.js';
import type { BuildContext } from './context.js';
import { DryExecutor, RealExecutor, type Executor, type PlannerHost } from './executor.js';
import { IndexFastPath } from './index-fast-path.js';
import { readInputs } from './inputs.js';
import { Scheduler, type SchedulerHost } from './scheduler.js';
import { Phase } from './state.js';
import type { BuildResult, InputRead, Job } from './types.js';

export class Planner implements PlannerHost, SchedulerHost {
  readonly #c: BuildContext;
  readonly #index: IndexFastPath;
  readonly #executor: Executor;
  readonly #scheduler: Scheduler;

  constructor(c: BuildContext) {
    this.#c = c;
    this.#index = new IndexFastPath(c);
    this.#executor = c.o.mode === 'dry' ? new DryExecutor(c, this) : new RealExecutor(c, this, this.#index);
    this.#scheduler = new Scheduler(this, c.o.jobs, c.controller);
  }

  async run(): Promise<BuildResult> {
    const { g, o, t } = this.#c;
    const selectedOrder = g.order.filter((i) => o.selected[i] === 1);
    await this.#load(selectedOrder);
    this.#c.emit({
      type: 'planned',
      total: selectedOrder.length,
      targets: o.targets ?? [],
      forced: selectedOrder.reduce((n, i) => n + o.forced[i], 0),
    });

    const onAbort = (): void => this.#scheduler.stop('interrupted');
    if (o.signal?.aborted) this.#scheduler.stop('interrupted');
    o.signal?.addEventListener('abort', onAbort);
    try {
      const now = performance.now();
      for (const i of selectedOrder) {
        t.readyAt[i] = now;
        if (t.waiting[i] === 0) this.#scheduler.ready(i);
      }
      await this.#scheduler.run();
      await this.#executor.complete(selectedOrder, this.#scheduler.fatal !== undefined);
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      this.#executor.close();
    }
    if (this.#scheduler.fatal !== undefined) throw this.#scheduler.fatal;
    return this.#executor.result(selectedOrder, this.#scheduler.interrupted);
  }

  // ---------------------------------------------------------------- step 1: loading

  async #load(all: readonly number[]): Promise<void> {
    const { g, o, t, files: table } = this.#c;
    for (const i of all) for (const dep of g.deps[i]) t.waiting[i]++, t.consumers[dep]++;
    const store = o.store;
    await this.#index.load(store, all);
    let order = this.#index.size === 0 ? all : all.filter((i) => !this.#index.decide(i));
    if (order.length < all.length) {
      // A hit needs its blob: one existence check for every output the index vouches for (a blob lost
      // outside the store's API, by damage, makes that task take the ordinary path and run).
      const fast = all.filter((i) => t.fast[i] === 1);
      const present = await store.hasBlobs(fast.map((i) => t.digest[i]!));
      const lost = fast.filter((_, k) => !present[k]);
      for (const i of lost) t.fast[i] = 0;
      if (lost.length > 0) order = all.filter((i) => t.fast[i] === 0);
    }
    // The inputs of tasks the index decided are not numbered here: a no-op numbers none of its 20,280
    // (each a Map insert of a ~100-character path), and one that runs after all numbers them then.

    const records = await store.getRecords(order.map((i) => g.ids[i]));
    const blobDigests = new Set<Digest>();
    order.forEach((i, k) => {
      const record = isRecord(records[k]) ? records[k] : undefined;
      if (records[k] !== undefined && !record) t.stored[i] = 1; // unreadable: a miss, replaced when it runs
      t.record[i] = record;
      if (record) {
        t.stored[i] = 1;
        for (const digest of blobsOfRecord(record)) blobDigests.add(digest);
      }
    });
    const digestList = [...blobDigests];
    const present = await store.hasBlobs(digestList);
    const missing = new Set<Digest>();
    digestList.forEach((digest, k) => {
      if (!present[k]) missing.add(digest);
    });
    for (const i of order) {
      const record = t.record[i];
      if (record && (missing.size === 0 || blobsOfRecord(record).every((d) => !missing.has(d)))) t.usable[i] = 1;
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
      const decidable = t.usable[i] === 1 && o.forced[i] === 0;
      for (let f = 0; f < files.length; f++) {
        indices[f] = table.id(files[f].path);
        if (decidable) want(indices[f]);
      }
      t.taskPaths[i] = indices;
      const record = t.record[i];
      if (record && t.usable[i]) {
        for (const rel of Object.keys(record.output.files)) {
          const target = outputPath(o.outDir, rel);
          if ('path' in target) want(table.id(target.path));
        }
      }
    }
    table.allocate();
    const vouched = this.#index.vouched;
    for (const [p, stat, digest] of vouched) {
      table.stat[p] = stat;
      if (digest !== 'absent') table.digest[p] = digest;
    }
    if (vouched.length > 0) {
      // Statted already, digests known: no second stat, no memo lookup.
      const known = new Set(vouched.map(([p]) => p));
      wanted = wanted.filter((p) => !known.has(p));
    }
    const memos = await store.getStatMemos(wanted.map((p) => table.paths[p]));
    for (let k = 0; k < wanted.length; k++) {
      const p = wanted[k];
      let stat: FileStat | undefined | null;
      try {
        stat = statFile(table.paths[p]);
      } catch {
        stat = null;
      }
      table.stat[p] = stat;
      const memo = memos[k];
      if (stat && memo && sameStat(stat, memo)) table.digest[p] = memo.digest;
    }
    this.#c.stats.filesStatted += wanted.length;
  }

  // ---------------------------------------------------------------- step 2: deciding

  resolve(i: number): void {
    const { g, o, t, files: table } = this.#c;
    t.phase[i] = Phase.Resolving;
    for (const dep of g.deps[i]) {
      const status = t.status[dep];
      if (status === 'failed' || status === 'skipped') {
        this.skip(i, `upstream ${g.ids[dep]} ${status === 'failed' ? 'failed' : 'was skipped'}`);
        return;
      }
    }
    if (o.forced[i]) return this.#executor.toRun(i, [{ field: 'forced' }]);
    if (t.fast[i]) return this.#executor.fast(i);
    if (!t.usable[i]) return this.#executor.toRun(i, [{ field: 'record', detail: t.record[i] ? 'outputs-missing' : 'absent' }]);
    const task = g.tasks[i];
    const paths = t.taskPaths[i]!; // numbered by #load: the task is not fast
    let needsHashing = false;
    for (let f = 0; f < paths.length; f++) {
      const p = paths[f];
      const stat = table.stat[p];
      if (stat === undefined) {
        if (!task.files[f].optional) {
          return this.#executor.toRun(i, [{ field: 'missing-input', name: task.files[f].name, path: table.paths[p] }]);
        }
      } else if (table.digest[p] === undefined) needsHashing = true;
    }
    if (needsHashing) {
      this.queue({ type: 'decide', task: i });
      return;
    }
    this.#decide(i, this.#currentFileDigests(i));
  }

  #currentFileDigests(i: number): (Digest | 'absent')[] {
    const { t, files: table } = this.#c;
    const paths = t.taskPaths[i]!; // as in resolve
    const out = new Array<Digest | 'absent'>(paths.length);
    for (let f = 0; f < paths.length; f++) {
      const p = paths[f];
      out[f] = table.stat[p] === undefined ? 'absent' : table.digest[p]!;
    }
    return out;
  }

  /** Upstream ids and output digests of a task (a dry run assumes an unknown upstream output unchanged). */
  #depState(i: number, assumePrevious: boolean): [string[], Digest[]] {
    const { g, t } = this.#c;
    const deps = g.deps[i];
    const depIds = new Array<string>(deps.length);
    const depDigests = new Array<Digest>(deps.length);
    const previous = t.record[i]?.deps;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k];
      depIds[k] = g.ids[d];
      depDigests[k] = assumePrevious && t.unknownOutput[d] ? (previous?.[g.ids[d]] ?? t.record[d]?.output.digest ?? 'unknown') : t.digest[d]!;
    }
    return [depIds, depDigests];
  }

  #fingerprintOf(i: number, fileDigests: readonly (Digest | 'absent')[], assumePrevious: boolean): Fingerprint {
    const task = this.#c.g.tasks[i];
    const [depIds, depDigests] = this.#depState(i, assumePrevious);
    const files = task.files.map((file, f) => ({ name: file.name, path: file.path, digest: fileDigests[f] }));
    return makeFingerprint(task, files, depIds, depDigests);
  }

  fingerprint(i: number, fileDigests: readonly (Digest | 'absent')[]): Fingerprint {
    return this.#fingerprintOf(i, fileDigests, false);
  }

  /** Decides a task whose input digests are all known: hit, or run with the reasons. */
  #decide(i: number, fileDigests: readonly (Digest | 'absent')[]): void {
    const { g, t } = this.#c;
    const task = g.tasks[i];
    const record = t.record[i]!;
    const unknownDeps = this.#executor.assumesUnknownUpstream ? g.deps[i].filter((d) => t.unknownOutput[d]) : [];
    const [depIds, depDigests] = this.#depState(i, unknownDeps.length > 0);
    // The key alone on the hot path; the full fingerprint only when there is a difference to explain.
    const key = computeKey(task, t.fileNames(i), fileDigests, depIds, depDigests);
    if (key !== record.key) {
      const current = this.#fingerprintOf(i, fileDigests, unknownDeps.length > 0);
      this.#executor.toRun(i, diffFingerprint(record, current, new Set(unknownDeps.map((d) => g.ids[d]))));
      return;
    }
    if (unknownDeps.length > 0) {
      // Dry run: fresh on its own, but an upstream would re-run first and might change its output.
      const changes: Change[] = unknownDeps.map((d) => ({ field: 'dep', id: g.ids[d], old: record.deps[g.ids[d]], new: 'unknown' }));
      this.plan(i, 'run-if-upstream-changes', changes);
      return;
    }
    this.#hit(i, record);
  }

  async #decideAfterHashing(i: number): Promise<void> {
    const c = this.#c;
    const task = c.g.tasks[i];
    let reads: (InputRead | undefined)[];
    try {
      reads = readInputs(c, i, new Array<InputRead | undefined>(task.files.length).fill(undefined), true, (k, memos) => this.#executor.memoize(k, memos));
    } catch (error) {
      // Reading failed: the execution path reads again and reports it as this task's failure.
      this.#executor.toRun(i, [], `cannot read its inputs: ${(error as Error).message}`);
      return;
    }
    c.preread.set(i, reads);
    const missing = reads.findIndex((r, f) => r?.bytes === null && !task.files[f].optional);
    if (missing >= 0) {
      const file = task.files[missing];
      this.#executor.toRun(i, [{ field: 'missing-input', name: file.name, path: file.path }]);
    } else {
      const known = this.#currentFileDigests(i);
      this.#decide(i, reads.map((r, f) => r?.digest ?? known[f]));
    }
    // Keep the bytes only for a task queued to execute (the read-once rule); a hit or a plan drops them.
    if (!this.#executor.keepsReads || c.t.phase[i] === Phase.Done) c.preread.delete(i);
  }

  #hit(i: number, record: TaskRecord): void {
    const { o, files: table } = this.#c;
    for (const [rel, digest] of Object.entries(record.output.files)) {
      const target = outputPath(o.outDir, rel);
      const p = 'path' in target ? table.find(target.path) : undefined;
      if (p !== undefined && table.stat[p] && table.digest[p] === digest) continue;
      if (this.#executor.outputDiffers(i, record, rel, p)) return;
    }
    this.#executor.cached(i, record);
  }

  plan(i: number, action: PlannedAction, changes: Change[], reason?: string): void {
    const t = this.#c.t;
    t.action[i] = action;
    t.changes[i] = changes;
    t.reason[i] = reason ?? this.#c.o.describe(changes);
    if (action !== 'fresh') t.unknownOutput[i] = 1;
    this.finish(i);
  }

  skip(i: number, reason: string): void {
    this.#c.preread.delete(i);
    this.#executor.skip(i, reason);
  }

  /** The task is settled: report it, release the values it read, ready its dependents. */
  finish(i: number): void {
    const { g, o, t, values } = this.#c;
    t.phase[i] = Phase.Done;
    const now = performance.now();
    t.ms[i] = now - t.readyAt[i];
    this.#c.emit({ type: 'task-end', ...t.outcome(i) });
    for (const dep of g.deps[i]) {
      if (--t.consumers[dep] <= 0) values.delete(dep);
    }
    for (const next of g.dependents[i]) {
      if (o.selected[next] && --t.waiting[next] === 0) {
        t.readyAt[next] = now;
        this.#scheduler.ready(next);
      }
    }
    if (t.status[i] === 'failed' && o.keepGoing === false) this.#scheduler.stop('failed');
  }

  // ---------------------------------------------------------------- jobs

  queue(job: Job, urgent = false): void {
    this.#scheduler.queue(job, urgent);
  }

  start(job: Job): Promise<void> {
    return job.type === 'decide' ? this.#decideAfterHashing(job.task) : this.#executor.start(job);
  }

  isLight(job: Job): boolean {
    return this.#executor.isLight(job);
  }

  backgroundError(): unknown {
    return this.#executor.backgroundError();
  }
}

/** A stored record with the fields the engine reads (an older or damaged layout is treated as a miss). */
function isRecord(value: unknown): value is TaskRecord {
  const r = value as TaskRecord | undefined;
  return (
    typeof r === 'object' && r !== null && typeof r.key === 'string' && typeof r.output?.digest === 'string' &&
    typeof r.output.files === 'object' && typeof r.files === 'object' && typeof r.deps === 'object'
  );
}
