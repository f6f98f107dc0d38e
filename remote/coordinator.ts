/**
 * `mdpipe run --queue URL`: the coordinator's side of distributed execution on BullMQ.
 *
 * Engine-agnostic on purpose: it does not schedule anything itself. It wraps the `run` of every partition
 * task a worker can run (`tasks/registry.ts`) in a micro-batcher: calls arriving within BATCH_WINDOW_MS
 * (or BATCH_SIZE of them) become ONE job; each call is resolved from that job's reply. The engine plans,
 * reads and hashes inputs, commits and publishes exactly as in a local run; the CLI raises its `jobs` so
 * that many calls are in flight at once. Whatever the engine's scheduler becomes, a task is still a
 * declaration with a `run(ctx)`.
 *
 * Trust: the worker returns the SHA-256 of every input it read; the wrapper hashes the bytes the engine
 * gave the task (`ctx.files`; the context does not expose the engine's digests, so each input is hashed a
 * second time here: ~6 files of ~3 kB per task, a few microseconds) and fails the task on any difference,
 * so nothing built from other bytes than those in the task's key is committed.
 */
import { hostname } from 'node:os';
import v8 from 'node:v8';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { sha256 } from '../cache/digest.js';
import { parseRedisUrl, redact, type SharedCacheUrl } from '../cache/shared/redis-url.js';
import type { PipelineDefinition, TaskContext, TaskDeclaration, TaskResult } from '../pipeline/index.js';
import { remoteSpec, type RemoteTaskSpec } from '../tasks/registry.js';
import { connectionOptions, withDeadline } from './connection.js';
import { QUEUE_NAME, type JobData, type JobReply, type TaskReply } from './protocol.js';

/** Gather calls this long before sending a job: the engine starts ready tasks within a few ms of each other. */
const BATCH_WINDOW_MS = 20;
/**
 * Tasks per job. 32 parse tasks are ~0.2-0.6 s of work on one core: long enough that one job's round
 * trips (add, fetch, complete, event: ~4) are small beside it, short enough that 3,380 tasks make ~106
 * jobs to spread over workers.
 */
export const BATCH_SIZE = 32;
/** Say so when no worker took a job for this long. */
const NO_WORKER_MS = 5_000;
/**
 * A lost connection to the queue's Redis is retried this long, then the run stops (the shared cache's
 * connect bound, cache/shared/redis-tier.ts): BullMQ's default is to reconnect for ever, and a coordinator
 * waiting on replies that can no longer come would hang the run.
 */
export const QUEUE_RECONNECT_MS = 2_000;

export interface CoordinatorOptions {
  url: string;
  /** Where the URL came from (`--queue`), for errors. */
  source: string;
  toolVersion: string;
  onWarning: (message: string) => void;
  /** The queue's Redis is gone for good ({@link QUEUE_RECONNECT_MS}): every task sent or to send has failed with `error`. */
  onLost?: (error: RemoteTaskError) => void;
  batchSize?: number;
}

interface Pending {
  spec: RemoteTaskSpec;
  resolve: (reply: { worker: string; task: TaskReply }) => void;
  reject: (error: Error) => void;
}

/** A task that failed on a worker, or whose worker read other input bytes. Names the task and the worker. */
export class RemoteTaskError extends Error {
  override readonly name = 'RemoteTaskError';
}

export class RemoteExecutor {
  /** Task id -> the worker that ran it (`run --json` adds it as `worker`). */
  readonly workerOf = new Map<string, string>();
  readonly runId = `${hostname()}-${process.pid}-${Date.now().toString(36)}`;
  readonly url: SharedCacheUrl;
  readonly stats = { jobs: 0, tasks: 0, bytesSent: 0, bytesReceived: 0 };
  readonly #queue: Queue<JobData, JobReply>;
  readonly #events: QueueEvents;
  readonly #options: CoordinatorOptions;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Map<string, Pending[]>();
  #sent = 0;
  #lastProgress = Date.now();
  #watch: NodeJS.Timeout | undefined;
  #warnedNoWorker = false;
  #cancelled = false;
  /** Set once the queue's Redis is lost for good. */
  lost: RemoteTaskError | undefined;
  #lastError = '';
  /** Until `open` connected, a connection that gives up is `open`'s error, not a lost queue. */
  #ready = false;

  private constructor(options: CoordinatorOptions, url: SharedCacheUrl) {
    this.#options = options;
    this.url = url;
    const giveUp = { afterMs: QUEUE_RECONNECT_MS, then: () => this.#lose() };
    this.#queue = new Queue<JobData, JobReply>(QUEUE_NAME, { connection: connectionOptions(url, giveUp) });
    this.#events = new QueueEvents(QUEUE_NAME, { connection: connectionOptions(url, giveUp) });
    const onError = (error: Error): void => void (this.#lastError = redact(error.message, url));
    this.#queue.on('error', onError);
    this.#events.on('error', onError);
  }

  #lose(): void {
    if (!this.#ready || this.lost || this.#cancelled) return;
    const { hostPort } = this.url;
    this.lost = new RemoteTaskError(
      `${this.#options.source}: lost the queue's Redis at ${hostPort}${this.#lastError ? ` (${this.#lastError})` : ''} and could not reconnect within ${QUEUE_RECONNECT_MS / 1000} s; ` +
        'the run stopped: tasks finished before are stored, the others were not run\n' +
        `  fix: check that Redis runs at ${hostPort}, then run again (stored results are not rebuilt), or run without --queue to build on this machine`,
    );
    clearTimeout(this.#timer);
    for (const p of this.#pending.splice(0)) p.reject(this.lost);
    for (const batch of this.#inFlight.values()) for (const p of batch) p.reject(this.lost);
    this.#inFlight.clear();
    this.#options.onLost?.(this.lost);
  }

  /**
   * Connects (bounded: 5 s) to the queue's Redis.
   * @throws an error naming host:port (never the password) when it cannot be reached
   */
  static async open(options: CoordinatorOptions): Promise<RemoteExecutor> {
    const url = parseRedisUrl(options.url, options.source);
    const executor = new RemoteExecutor(options, url);
    try {
      await withDeadline(Promise.all([executor.#queue.waitUntilReady(), executor.#events.waitUntilReady()]), 5_000, `the queue at ${url.hostPort}`);
      executor.#ready = true;
    } catch (error) {
      await executor.close();
      throw new RemoteTaskError(
        `${options.source}: cannot reach the queue's Redis at ${url.hostPort}: ${redact(error instanceof Error ? error.message : String(error), url)}\n` +
          `  fix: check that Redis runs at ${url.hostPort} and the password is right, or run without --queue to build on this machine`,
      );
    }
    return executor;
  }

  /** The definition with every partition task a worker can run sent to the queue instead. */
  wrap(definition: PipelineDefinition): PipelineDefinition {
    return {
      ...definition,
      partitioned: definition.partitioned.map((kind) => ({
        ...kind,
        partition: (match: string) => {
          const task = kind.partition(match);
          if ('skip' in task) return task;
          const spec = remoteSpec(task);
          // No `offload`: the engine would run it on its own second thread instead of sending it here.
          return spec ? { ...task, offload: undefined, run: (ctx: TaskContext) => this.#runRemote(spec, task, ctx) } : task;
        },
      })),
    };
  }

  async #runRemote(spec: RemoteTaskSpec, task: TaskDeclaration, ctx: TaskContext): Promise<TaskResult> {
    const mine: Record<string, string> = {};
    for (const [name, bytes] of ctx.files) mine[name] = bytes === null ? 'absent' : sha256(bytes);
    const { worker, task: reply } = await new Promise<{ worker: string; task: TaskReply }>((resolve, reject) => this.#submit({ spec, resolve, reject }));
    if (reply.error !== undefined) throw new RemoteTaskError(`${reply.error} (on worker ${worker})`);
    for (const file of task.files) {
      const theirs = reply.inputs[file.name];
      if (theirs !== mine[file.name]) {
        throw new RemoteTaskError(
          `${task.id}: worker ${worker} read ${file.path} as ${theirs ?? 'nothing'} but this machine hashed ${mine[file.name]}; nothing was stored for this task\n` +
            '  fix: the file changed during the run, or the workers see another file at that path (check the shared file system), then run again',
        );
      }
    }
    for (const note of reply.notes) ctx.note(note);
    this.workerOf.set(task.id, worker);
    return { value: v8.deserialize(Buffer.from(reply.value!, 'base64')) };
  }

  #submit(pending: Pending): void {
    if (this.lost) {
      pending.reject(this.lost);
      return;
    }
    if (this.#cancelled) {
      pending.reject(new RemoteTaskError(`${pending.spec.id}: not sent to the queue (the run was interrupted)`));
      return;
    }
    this.#pending.push(pending);
    if (this.#pending.length >= (this.#options.batchSize ?? BATCH_SIZE)) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), BATCH_WINDOW_MS);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const jobId = `${this.runId}.${++this.#sent}`;
    const data: JobData = { runId: this.runId, toolVersion: this.#options.toolVersion, tasks: batch.map((p) => p.spec) };
    this.#inFlight.set(jobId, batch);
    this.stats.jobs++;
    this.stats.tasks += batch.length;
    this.stats.bytesSent += JSON.stringify(data).length;
    this.#startWatch();
    void this.#send(jobId, data, batch);
  }

  async #send(jobId: string, data: JobData, batch: Pending[]): Promise<void> {
    try {
      const job: Job<JobData, JobReply> = await this.#queue.add('batch', data, {
        jobId,
        attempts: 2,
        backoff: { type: 'fixed', delay: 500 },
        removeOnComplete: { age: 3600 },
        removeOnFail: { age: 24 * 3600 },
      });
      const reply = (await job.waitUntilFinished(this.#events)) as JobReply;
      this.#lastProgress = Date.now();
      this.stats.bytesReceived += JSON.stringify(reply).length;
      const byId = new Map(reply.tasks.map((t) => [t.id, t]));
      for (const p of batch) {
        const task = byId.get(p.spec.id);
        if (task) p.resolve({ worker: reply.worker, task });
        else p.reject(new RemoteTaskError(`${p.spec.id}: worker ${reply.worker} returned no result for it`));
      }
    } catch (error) {
      const reason = redact(error instanceof Error ? error.message : String(error), this.url);
      for (const p of batch) p.reject(new RemoteTaskError(`${p.spec.id}: the queued job ${jobId} failed: ${reason}`));
    } finally {
      this.#inFlight.delete(jobId);
    }
  }

  /** Every few seconds while jobs are out: says so once when no worker is there to take them. */
  #startWatch(): void {
    if (this.#watch) return;
    this.#watch = setInterval(() => {
      if (this.#inFlight.size === 0 || this.#warnedNoWorker || Date.now() - this.#lastProgress < NO_WORKER_MS) return;
      void this.#queue.getWorkersCount().then(
        (count) => {
          if (count > 0 || this.#warnedNoWorker) return;
          this.#warnedNoWorker = true;
          this.#options.onWarning(
            `no worker is taking jobs from queue ${QUEUE_NAME} at ${this.url.display} (${this.#inFlight.size} jobs waiting): ` +
              `start one with \`mdpipe worker --queue redis://…@${this.url.hostPort}/${this.url.db}\`, or press Ctrl-C to stop (queued jobs are removed)`,
          );
        },
        () => {},
      );
    }, 1_000);
    this.#watch.unref();
  }

  /** Ctrl-C: removes this run's jobs that no worker took yet and fails their tasks; sends nothing more. */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    clearTimeout(this.#timer);
    for (const p of this.#pending.splice(0)) p.reject(new RemoteTaskError(`${p.spec.id}: not sent to the queue (the run was interrupted)`));
    await Promise.all(
      [...this.#inFlight].map(async ([jobId, batch]) => {
        // A job a worker holds (locked) is not removed; its tasks finish and are committed as usual.
        const removed = await this.#queue.remove(jobId).catch(() => 0);
        if (removed === 1) {
          this.#inFlight.delete(jobId);
          for (const p of batch) p.reject(new RemoteTaskError(`${p.spec.id}: its queued job was removed (the run was interrupted)`));
        }
      }),
    );
  }

  async close(): Promise<void> {
    clearInterval(this.#watch);
    clearTimeout(this.#timer);
    if (this.#inFlight.size > 0) await this.cancel();
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
  }
}
