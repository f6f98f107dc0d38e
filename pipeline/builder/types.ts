/** The options and result of one build, and the shapes its parts pass each other. */
import type { Digest } from '../../cache/digest.js';
import type { CacheStore } from '../../cache/store.js';
import type { EngineEvent, PlannedTask, RunStats, TaskOutcome } from '../events.js';
import type { FileStat } from '../file-state.js';
import type { Change } from '../fingerprint.js';
import type { TaskGraph } from '../task-graph.js';

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
  /** The one-line reason for a task that runs for these changes (the CLI's wording, or the engine's terse one). */
  describe: (changes: readonly Change[]) => string;
  /**
   * Run tasks' `offload` functions on a worker thread once at least this many are queued (`offload.ts`);
   * 0 or absent: never (the engine sets it where there is a second core).
   */
  offload?: number;
  /** The targets as given, for the `planned` event. */
  targets?: string[];
}

export interface BuildResult {
  outcomes: TaskOutcome[];
  planned: PlannedTask[];
  interrupted: boolean;
  stats: RunStats;
}

/** Work for the job pool: hashing inputs then deciding, restoring published files, executing. */
export type Job = {
  type: 'decide' | 'exec' | 'restore';
  task: number;
  /** Set by the scheduler: started outside the pool's slots, so it may wait on the offload thread. */
  light?: boolean;
};

/** A file input as read for a run: bytes (null when an optional file is absent) and the stat read. */
export interface InputRead {
  bytes: Buffer | null;
  stat: FileStat | undefined;
  digest: Digest | 'absent';
}
