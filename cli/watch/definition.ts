/**
 * The dataset's definition as `watch` hands it to the engine: the same tasks, with two additions made
 * here, outside the engine, by wrapping `partition` and `run`:
 *   - a checkpoint folder that is new (not in the previous graph) and still being written (a file in it
 *     changed within the quiet period) is left out of the graph for now (a skipped match, "still being
 *     written"); it joins once it is quiet, so a half-written folder never shows up as a half-empty row;
 *   - a parse task's run remembers why it threw (the reader's `reason`: truncated, empty, ...), since the
 *     engine reports a failure as text only, so that the failure can be told apart from a file being
 *     written (`classifyFailure`). The error itself is re-thrown unchanged: the engine sees what `run` sees.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { PipelineDefinition, TaskDeclaration } from '../../pipeline/index.js';

/** A checkpoint folder in the graph. */
export interface FolderTask {
  id: string;
  folder: string;
  files: string[];
}

export interface WatchDefinition {
  definition: PipelineDefinition;
  /** Checkpoint folders in the graph, by task id (filled during discovery). */
  readonly tasks: Map<string, FolderTask>;
  /** New folders left out because they are still being written (filled during discovery). */
  readonly writing: FolderTask[];
  /** Why a task's run threw in the current build, by task id (cleared by the caller between builds). */
  readonly thrown: Map<string, { reason?: string; file?: string }>;
}

export const STILL_BEING_WRITTEN = 'still being written (a file in it changed within the quiet period)';

/**
 * @param known folders in the current graph: they stay even while being written (leaving one out would
 *   drop its row until it is quiet again)
 * @param settled whether a new folder has been quiet long enough to build
 */
export function watchDefinition(base: PipelineDefinition, known: ReadonlySet<string>, settled: (f: FolderTask) => boolean): WatchDefinition {
  const tasks = new Map<string, FolderTask>();
  const writing: FolderTask[] = [];
  const thrown = new Map<string, { reason?: string; file?: string }>();
  const wrap = (task: TaskDeclaration): TaskDeclaration => ({
    ...task,
    async run(ctx) {
      try {
        return await task.run(ctx);
      } catch (error) {
        const e = error as { reason?: unknown; file?: unknown };
        thrown.set(task.id, { reason: typeof e?.reason === 'string' ? e.reason : undefined, file: typeof e?.file === 'string' ? e.file : undefined });
        throw error;
      }
    },
  });
  const definition: PipelineDefinition = {
    tasks: base.tasks,
    partitioned: base.partitioned.map((kind) => ({
      ...kind,
      partition(match: string) {
        const outcome = kind.partition(match);
        if ('skip' in outcome || outcome.files.length === 0) return outcome;
        const entry: FolderTask = { id: outcome.id, folder: path.dirname(outcome.files[0].path), files: outcome.files.map((f) => f.path) };
        if (!known.has(entry.folder) && !settled(entry)) {
          writing.push(entry);
          return { skip: STILL_BEING_WRITTEN };
        }
        tasks.set(entry.id, entry);
        return wrap(outcome);
      },
    })),
  };
  return { definition, tasks, writing, thrown };
}

/** The latest mtime or ctime among `files` (wall-clock ms; 0 when none exists). ctime cannot be set back. */
export function lastWrite(files: readonly string[]): number {
  let latest = 0;
  for (const file of files) {
    const s = statSync(file, { throwIfNoEntry: false });
    if (s) latest = Math.max(latest, s.mtimeMs, s.ctimeMs);
  }
  return latest;
}

/**
 * Reader failures a file that is still being written produces: measured on every 60th prefix of every
 * metric file of a synthetic folder (test/cli/watch-reasons.test.ts), a pickle or an .npz cut short fails
 * as `truncated` (an .npz prefix too: "starts like a zip archive but has no end-of-central-directory
 * record"), a file just created as `empty`; nothing else.
 */
export const INCOMPLETE_REASONS: ReadonlySet<string> = new Set(['truncated', 'empty']);

/**
 * A failed parse task is "still being written" (waiting, retried) rather than failed when its folder
 * changed after the build started (the files changed between read and commit, or were read torn), or
 * when it failed as an incomplete file and its folder changed within the quiet period before the build.
 * Past the quiet period, a broken file is a failure, as in `run`.
 */
export function isStillBeingWritten(changedAt: number, buildStartedAt: number, quietMs: number, reason: string | undefined): boolean {
  if (changedAt >= buildStartedAt) return true;
  return changedAt > buildStartedAt - quietMs && reason !== undefined && INCOMPLETE_REASONS.has(reason);
}
