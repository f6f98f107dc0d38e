/**
 * What goes over the queue: one BullMQ job per BATCH of partition tasks, and what a worker sends back.
 *
 * A job carries everything a worker needs and nothing it must already have: the versions it must match
 * (mdpipe's, and each task's code version), and per task its id, parameters and absolute folder
 * (`tasks/registry.ts` rebuilds the task from them). A worker returns per task the encoded value (the
 * engine's own v8 serialisation, base64), its notes, and the SHA-256 of every input it read, which the
 * coordinator compares with the digests of the bytes it hashed itself.
 */
import type { Digest } from '../cache/digest.js';
import type { RemoteTaskSpec } from '../tasks/registry.js';

/** The BullMQ queue name (under BullMQ's default `bull:` key prefix). */
export const QUEUE_NAME = 'mdpipe-tasks';

/**
 * Lock and stalled-check timing of workers, shorter than BullMQ's defaults (30 s lock, 30 s check) so that
 * a run that lost a worker (SIGKILL, a machine gone) gets its jobs back within ~15 s: the lock of a dead
 * worker expires after LOCK_MS, and the next stalled check of any live worker (every STALLED_MS) moves the
 * job back to waiting. A live worker renews its lock every LOCK_MS / 2, so a parse batch (~0.1-1 s) never
 * comes near it.
 */
export const LOCK_MS = 10_000;
export const STALLED_MS = 5_000;
/** A job whose worker died this many times is failed rather than retried forever (a poison batch). */
export const MAX_STALLED = 3;

export interface JobData {
  /** The coordinator's run: job ids are `<runId>.<n>`, so two coordinators on one queue never mix. */
  runId: string;
  /** mdpipe version of the coordinator: a worker of another version refuses the job. */
  toolVersion: string;
  tasks: RemoteTaskSpec[];
}

export interface TaskReply {
  id: string;
  /** base64 of `v8.serialize(value)`, absent when the task failed. */
  value?: string;
  notes: string[];
  /** Input name -> SHA-256 of the bytes the worker read, or `absent`. */
  inputs: Record<string, Digest | 'absent'>;
  /** The task's error message, when it failed. */
  error?: string;
}

export interface JobReply {
  /** `host:pid` of the worker that ran the job. */
  worker: string;
  tasks: TaskReply[];
}

/** Why a worker refuses a job, or undefined when it can run it. */
export function versionMismatch(data: JobData, workerToolVersion: string, workerCodeVersions: Readonly<Record<string, string>>): string | undefined {
  if (data.toolVersion !== workerToolVersion) {
    return `this worker runs mdpipe ${workerToolVersion} and the job comes from mdpipe ${data.toolVersion}: run workers of the coordinator's version`;
  }
  for (const task of data.tasks) {
    const mine = workerCodeVersions[task.kind];
    if (mine === undefined) return `this worker cannot run ${task.kind} tasks (mdpipe ${workerToolVersion}): run workers of the coordinator's version`;
    if (mine !== task.codeVersion) {
      return `this worker's ${task.kind} code is version ${mine} and the job's is ${task.codeVersion}: run workers of the coordinator's version`;
    }
  }
  return undefined;
}
