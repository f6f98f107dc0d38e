/**
 * What the engine reports: typed events while it works, and the summary and plan objects it returns.
 * Renderers (progress bar, logs, `--json`) are subscribers; the engine never prints.
 */
import type { SkippedSummary } from './discover.js';
import type { Change } from './fingerprint.js';

/** Final status of a task in a run (the `run --json` vocabulary). */
export type TaskStatus = 'executed' | 'cached' | 'failed' | 'skipped';

/**
 * The reason of a task skipped because the run stopped starting tasks after a failure (`keepGoing: false`),
 * as against one whose upstream failed: the CLI words the two apart.
 */
export const NOT_STARTED_AFTER_FAILURE = 'not started: an earlier task failed';

/** One task in the `run --json` summary. */
export interface TaskSummary {
  id: string;
  status: TaskStatus;
  /** Wall time from the task becoming ready to its end, in milliseconds. */
  ms: number;
}

/** Exactly what `run --json` prints. */
export interface RunSummary {
  /** True when no task failed and the run was not interrupted. */
  ok: boolean;
  durationMs: number;
  executed: number;
  cached: number;
  failed: number;
  skipped: number;
  tasks: TaskSummary[];
}

/** A task's outcome with the detail the summary leaves out. */
export interface TaskOutcome extends TaskSummary {
  kind: string;
  /** Why it ran (`executed`), why it was skipped, or what failed. */
  reason?: string;
  /** The error message of a failed task (names the task and, where known, the file). */
  error?: string;
  /** Published files restored from the cache on a hit. */
  restored?: string[];
  /** Warnings the task attached. */
  notes?: string[];
}

/** What `run` returns. */
export interface RunResult {
  /** The `run --json` object. */
  summary: RunSummary;
  /** Per-task detail, in the summary's order. */
  outcomes: TaskOutcome[];
  /** True when the run was stopped by its abort signal. */
  interrupted: boolean;
  /** Counters that show how much work the engine did (tests and benchmarks read these). */
  stats: RunStats;
}

export interface RunStats {
  /** Input or output files read and hashed (0 on a no-op whose stat memos match). */
  filesHashed: number;
  /** Input files whose stat was checked. */
  filesStatted: number;
  /** Blobs read from the store. */
  blobsRead: number;
  /** Commit batches written. */
  commits: number;
  /** Tasks whose run was made on the offload thread (builder/offload.ts). */
  offloaded: number;
}

/** What a dry run (or `status`) decides for a task, from the same planner as a real run. */
export type PlannedAction = 'run' | 'fresh' | 'run-if-upstream-changes';

export interface PlannedTask {
  id: string;
  kind: string;
  action: PlannedAction;
  /** One line: why it would run, or `up to date`. */
  reason: string;
  /** Every difference from the stored record (empty when fresh). */
  changes: Change[];
}

/** What `dryRun` returns. */
export interface DryRunResult {
  tasks: PlannedTask[];
  /** Counts by action. */
  run: number;
  fresh: number;
  runIfUpstreamChanges: number;
}

export type EngineEvent =
  | { type: 'discovered'; tasks: number; counts: Record<string, number>; skipped: SkippedSummary[] }
  | { type: 'planned'; total: number; targets: string[]; forced: number }
  | { type: 'task-start'; id: string; kind: string; reason: string }
  | {
      type: 'task-end';
      id: string;
      kind: string;
      status: TaskStatus;
      ms: number;
      reason?: string;
      error?: string;
      restored?: string[];
      notes?: string[];
    }
  | { type: 'committed'; ids: string[] }
  | { type: 'warning'; message: string; id?: string }
  | { type: 'run-end'; summary: RunSummary; interrupted: boolean };

export type EngineListener = (event: EngineEvent) => void;
