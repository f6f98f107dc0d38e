/**
 * `mdpipe worker --queue URL`: a BullMQ worker that runs batches of partition tasks for coordinators.
 *
 * It needs no configuration: each job names its tasks' folders (the same absolute paths as on the
 * coordinator: a shared file system) and `tasks/registry.ts` rebuilds each task from its parameters. It
 * reads and hashes the inputs itself and returns, per task, the encoded value, the notes and the input
 * digests (the coordinator checks them against its own). A job from another mdpipe version or code
 * version is refused with an UnrecoverableError (failed at once, not retried), whose message says which.
 *
 * Faults: BullMQ renews the job lock while a batch runs; a worker killed mid-job stops renewing and
 * another worker's stalled check re-queues the job (timings in protocol.ts). SIGTERM: `close()` stops
 * taking jobs and waits for the running ones.
 */
import { hostname } from 'node:os';
import v8 from 'node:v8';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { sha256 } from '../cache/digest.js';
import { parseRedisUrl, redact, type SharedCacheUrl } from '../cache/shared/redis-url.js';
import { readFileWithStat, type TaskContext } from '../pipeline/index.js';
import { REMOTE_KINDS, type RemoteTaskSpec } from '../tasks/registry.js';
import { connectionOptions, withDeadline } from './connection.js';
import { LOCK_MS, MAX_STALLED, QUEUE_NAME, STALLED_MS, versionMismatch, type JobData, type JobReply, type TaskReply } from './protocol.js';

export interface WorkerOptions {
  url: string;
  source: string;
  toolVersion: string;
  concurrency: number;
  /** One line per finished or refused job. */
  onLog: (line: string) => void;
}

export interface RunningWorker {
  readonly name: string;
  readonly url: SharedCacheUrl;
  /** Stops taking jobs and waits for the running ones. */
  close(): Promise<void>;
}

const CODE_VERSIONS: Record<string, string> = Object.fromEntries(Object.entries(REMOTE_KINDS).map(([kind, k]) => [kind, k.codeVersion]));

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const url = parseRedisUrl(options.url, options.source);
  const name = `${hostname()}:${process.pid}`;
  const stop = new AbortController();
  const worker = new Worker<JobData, JobReply>(QUEUE_NAME, (job) => processJob(job, name, options, stop.signal), {
    connection: connectionOptions(url),
    concurrency: options.concurrency,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_MS,
    maxStalledCount: MAX_STALLED,
    name,
  });
  let lastError = '';
  worker.on('error', (error) => {
    const line = redact(error.message, url);
    if (line !== lastError) options.onLog(`queue error: ${line}`);
    lastError = line;
  });
  worker.on('failed', (job, error) => job && options.onLog(`job ${job.id} refused or failed: ${redact(error.message, url)}`));
  try {
    await withDeadline(worker.waitUntilReady(), 5_000, `the queue at ${url.hostPort}`);
  } catch (error) {
    await worker.close(true).catch(() => {});
    throw new Error(`--queue: cannot reach the queue's Redis at ${url.hostPort}: ${redact(error instanceof Error ? error.message : String(error), url)}`);
  }
  return {
    name,
    url,
    close: async () => {
      await worker.close();
      stop.abort();
    },
  };
}

async function processJob(job: Job<JobData, JobReply>, name: string, options: WorkerOptions, signal: AbortSignal): Promise<JobReply> {
  const refused = versionMismatch(job.data, options.toolVersion, CODE_VERSIONS);
  if (refused) throw new UnrecoverableError(`worker ${name} refused job ${job.id}: ${refused}`);
  const started = performance.now();
  const tasks: TaskReply[] = [];
  for (const spec of job.data.tasks) tasks.push(await runTask(spec, signal));
  const failed = tasks.filter((t) => t.error !== undefined).length;
  options.onLog(`job ${job.id}: ${tasks.length} tasks${failed ? `, ${failed} failed` : ''} in ${Math.round(performance.now() - started)} ms`);
  return { worker: name, tasks };
}

/** Rebuilds the task, reads and hashes its inputs, runs it; a failure is the task's, not the job's. */
async function runTask(spec: RemoteTaskSpec, signal: AbortSignal): Promise<TaskReply> {
  const notes: string[] = [];
  const inputs: Record<string, string> = {};
  try {
    const task = REMOTE_KINDS[spec.kind].rebuild(spec);
    if (task.id !== spec.id) throw new Error(`${spec.id}: rebuilt as ${task.id} from its parameters; the coordinator and this worker disagree on the task`);
    const files = new Map<string, Buffer | null>();
    for (const file of task.files) {
      const read = readFileWithStat(file.path, file.maxBytes);
      if (read === undefined && !file.optional) throw new Error(`${spec.id}: the input ${file.path} does not exist on this worker`);
      files.set(file.name, read?.bytes ?? null);
      inputs[file.name] = read === undefined ? 'absent' : sha256(read.bytes);
    }
    const ctx: TaskContext = { id: task.id, params: task.params, files, upstream: new Map(), signal, note: (message) => notes.push(message), previous: null };
    const result = await task.run(ctx);
    if (result.files && Object.keys(result.files).length > 0) throw new Error(`${spec.id}: a remote task cannot publish files`);
    return { id: spec.id, value: v8.serialize(result.value).toString('base64'), notes, inputs };
  } catch (error) {
    return { id: spec.id, notes, inputs, error: error instanceof Error ? error.message : String(error) };
  }
}
