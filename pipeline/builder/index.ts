/**
 * One build over the task graph. The planner decides, the executor acts on the decisions, so a dry run
 * is the real run with another executor (same lookups, same decisions, same reasons).
 *
 * Algorithm (a ready queue over the DAG, Kahn-style), file by file:
 *  0. `index-fast-path.ts`: the partition index (`../partition-index.ts`, one value): a task without
 *     dependencies whose inputs have the stats and whose key the index records is decided there and then,
 *     from a `stat` per input, with no record read. Everything else goes through step 1.
 *  1. `planner.ts` (load), batched: every remaining task's record (one `getRecords`), the existence of
 *     every blob those records name (one `hasBlobs`), then, for the files that can decide something
 *     (inputs of tasks with a usable record, and the files those records published), the stat memos (one
 *     `getStatMemos`) and one `stat` each. A file whose stat matches its memo gets the memo's digest
 *     without being read.
 *  2. `planner.ts` (resolve, decide), driven by `scheduler.ts`: tasks are resolved as their upstream
 *     resolves. A task's key needs its upstream's output digests, so a task is only decided when all its
 *     deps are: a cached dep gives its stored digest at once; an executed dep gives the digest of what it
 *     produced, and if that is unchanged the task stays fresh (early cutoff). Resolution is a synchronous
 *     loop: a no-op build creates no promise per task.
 *  3. `scheduler.ts` (a pool of `jobs` slots) runs the work that needs I/O or user code: hashing a
 *     task's inputs whose stat changed (then deciding: `inputs.ts`, `planner.ts`), restoring a hit's
 *     published files and executing a stale task (`executor.ts`: `RealExecutor`, or `DryExecutor`, which
 *     only says what would happen). The commit protocol is in `executor.ts`. When many tasks with an
 *     `offload` function are to run (a first build's parses), their runs go to a worker thread
 *     (`offload.ts`, `offload-worker.ts`) as light jobs outside the pool's slots, while this thread reads,
 *     hashes and commits them.
 *
 * Per-task and per-file state is flat arrays (`state.ts`), shared through `context.ts`; `outcome(i)`
 * there is the one place a task's result is put together. It does not choose targets (`../select.ts`),
 * take the lock (`../lock.ts`) or render anything.
 */
import { BuildContext } from './context.js';
import { Planner } from './planner.js';
import type { BuildOptions, BuildResult } from './types.js';

export type { BuildOptions, BuildResult } from './types.js';
export { TOUCH_INTERVAL_MS } from './index-fast-path.js';
export { describeTaskError } from './executor.js';

/** Runs one build; see the file header. */
export function runBuild(options: BuildOptions): Promise<BuildResult> {
  return new Planner(new BuildContext(options)).run();
}
