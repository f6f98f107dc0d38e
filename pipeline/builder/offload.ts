/**
 * Runs tasks' `offload` functions (pipeline/task.ts) on one worker thread (`offload-worker.ts`) while the
 * build's thread reads, hashes, records and commits: the second core takes the tasks' computation, which in
 * a first build of the full-size tree is ~1/4 of the build's thread (parsing 20,280 pickles and npz files).
 *
 * Only where it pays: with a second core, and when at least `MIN_TASKS` offloadable tasks are queued. Until
 * the thread is ready (~100-300 ms of the other core loading ~40 compiled modules), tasks run on the build's
 * thread; then the thread's first batches run in unoptimised code while the build's thread waits for them,
 * and the other core is no longer free for the build's garbage collection. The
 * build's thread still reads every input itself: a second thread doing file I/O slowed the first one's own
 * file calls by as much as it saved (measured: the post-run stats 83 -> 155 ms of a cold build).
 *
 * Requests are batched (`BATCH_TASKS` tasks, their files copied into one buffer, one message each way) and
 * sent when a batch fills or the build's thread next turns its event loop. A task the thread could not run
 * (its module did not load, its function threw, the thread died) resolves to undefined: the executor then
 * runs it on the build's thread, so a failure is always the task's own `run` failing, with its own error.
 */
import { Worker } from 'node:worker_threads';
import { compiledFile } from '../../util/compiled-file.js';
import type { Json } from '../../util/json.js';
import type { OffloadedResult } from '../task.js';
import type { OffloadBatch, OffloadReply } from './offload-protocol.js';

/**
 * Fewer offloadable tasks than this to run are run on the build's thread (see the header). `run --force` of
 * so many parses of the full-size tree, without the thread against with it (medians of 8, interleaved):
 * 130 tasks 384 -> 441 ms, 520 tasks 558 -> 671 ms, 1,690 tasks 1,072 -> 1,106 ms: slower; 3,380 tasks
 * 1,588 -> 1,520 ms, and a first build of the 10x tree 23.9 -> 13.8 s: faster. (It was 64 before.)
 */
export const MIN_TASKS = 2_048;
/**
 * Tasks per message: 16 checkpoint folders are ~180 kB of files. With the scheduler's 64 in flight, 4
 * batches: against 32 per batch with 128 in flight, and 8 with 32, a first build measured 2.29 s against 2.36
 * and 2.39 s (medians of 10, interleaved, a loaded host).
 */
const BATCH_TASKS = 16;

/** The compiled worker: beside this file's compiled form, or found from the bundle or the sources (tests). */
function workerScript(): URL | undefined {
  return compiledFile(import.meta.url, ['./offload-worker.js', '../pipeline/builder/offload-worker.js', '../../dist/pipeline/builder/offload-worker.js']);
}

type Resolve = (result: OffloadedResult | undefined) => void;

interface Pending {
  module: string;
  args: Json[];
  names: string[][];
  files: (Uint8Array | null)[];
  resolves: Resolve[];
}

export class Offload {
  readonly #from: number;
  #worker: Worker | undefined;
  /** Set once the thread was started, failed to start, or died: it is never started again. */
  #started = false;
  /** The thread has loaded its first module. */
  #ready = false;
  #batch: Pending | undefined;
  #flushing = false;
  #nextId = 0;
  readonly #waiting = new Map<number, Resolve[]>();
  /** Tasks run on the thread (for the tests and `run --debug`). */
  offloaded = 0;

  /** @param from the fewest offloadable tasks that start the thread; 0: never */
  constructor(from: number) {
    this.#from = from;
  }

  /**
   * Whether tasks go to the thread now. The first time `queued` offloadable tasks make it worth it, starts
   * the thread, loading `module`; until the thread says it is ready (its first ~100-300 ms: loading and
   * compiling the module), tasks run on the build's thread rather than wait for it.
   */
  use(queued: number, module: string): boolean {
    if (this.#worker !== undefined) return this.#ready;
    if (this.#from <= 0 || this.#started || queued < this.#from) return false;
    this.#started = true;
    const script = workerScript();
    if (script === undefined) return false;
    try {
      const worker = new Worker(script, { workerData: { preload: module } });
      worker.unref(); // never what keeps the process alive
      const lost = (): void => this.#lost();
      worker.on('message', (reply: OffloadReply | 'ready') => (reply === 'ready' ? (this.#ready = true) : this.#reply(reply)));
      worker.on('error', lost);
      worker.on('exit', lost);
      this.#worker = worker;
    } catch {
      // not started: everything runs here
    }
    return false;
  }

  /** The task's `offload` run on the thread; undefined: run it on the build's thread. */
  run(module: string, args: Json, files: ReadonlyMap<string, Uint8Array | null>): Promise<OffloadedResult | undefined> {
    if (this.#worker === undefined) return Promise.resolve(undefined);
    if (this.#batch !== undefined && this.#batch.module !== module) this.#flush();
    const batch = (this.#batch ??= { module, args: [], names: [], files: [], resolves: [] });
    batch.args.push(args);
    batch.names.push([...files.keys()]);
    for (const bytes of files.values()) batch.files.push(bytes);
    const result = new Promise<OffloadedResult | undefined>((resolve) => batch.resolves.push(resolve));
    if (batch.args.length >= BATCH_TASKS) this.#flush();
    else if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(() => {
        this.#flushing = false;
        this.#flush();
      });
    }
    return result;
  }

  /** Stops the thread; whatever it still had runs on the build's thread. */
  close(): void {
    const worker = this.#worker;
    this.#lost();
    void worker?.terminate();
  }

  #flush(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    if (batch === undefined) return;
    if (this.#worker === undefined) {
      for (const resolve of batch.resolves) resolve(undefined);
      return;
    }
    let total = 0;
    for (const bytes of batch.files) if (bytes !== null) total += bytes.byteLength;
    const bytes = new Uint8Array(total);
    const lengths = new Int32Array(batch.files.length);
    let at = 0;
    batch.files.forEach((file, k) => {
      if (file === null) {
        lengths[k] = -1;
        return;
      }
      bytes.set(file, at);
      lengths[k] = file.byteLength;
      at += file.byteLength;
    });
    const id = this.#nextId++;
    this.#waiting.set(id, batch.resolves);
    const message: OffloadBatch = { id, module: batch.module, args: JSON.stringify(batch.args), names: JSON.stringify(batch.names), lengths, bytes };
    this.#worker.postMessage(message, [bytes.buffer, lengths.buffer]);
    if (this.#waiting.size === 1) this.#worker.ref(); // a reply is awaited: keep the loop alive for it
  }

  #reply(reply: OffloadReply): void {
    const resolves = this.#waiting.get(reply.id);
    if (resolves === undefined) return;
    this.#waiting.delete(reply.id);
    if (this.#waiting.size === 0) this.#worker?.unref();
    const notes = JSON.parse(reply.notes) as string[][];
    let at = 0;
    resolves.forEach((resolve, k) => {
      const length = reply.lengths[k];
      const value = reply.bytes.subarray(at, at + length);
      at += length;
      if (reply.failed[k] === 1) return resolve(undefined);
      this.offloaded++;
      resolve({ value, notes: notes[k] });
    });
  }

  /** The thread is gone (or being closed): everything sent or about to be runs on the build's thread. */
  #lost(): void {
    this.#worker = undefined;
    this.#ready = false;
    this.#started = true;
    const waiting = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const resolves of waiting) for (const resolve of resolves) resolve(undefined);
    const batch = this.#batch;
    this.#batch = undefined;
    for (const resolve of batch?.resolves ?? []) resolve(undefined);
  }
}
