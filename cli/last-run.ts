/**
 * `<outDir>/last-run.json`: what the last `run` did (its summary, and the failed tasks with their errors),
 * written by the CLI after every run for the pages that describe the outputs (`index.html`, the status
 * colours of `graph --format svg`). Written atomically (util/atomic-write.ts), so a reader never sees
 * half a file; a missing or unreadable file just means "no run recorded".
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunResult, TaskOutcome } from '../pipeline/index.js';

export const LAST_RUN_FILE = 'last-run.json';

export interface LastRun {
  finishedAt: string;
  interrupted: boolean;
  summary: Omit<RunResult['summary'], 'tasks'>;
  /** Failed tasks only: the summary's per-task list runs to thousands of lines. */
  outcomes: Pick<TaskOutcome, 'id' | 'status' | 'error'>[];
}

export function lastRunOf(result: RunResult): LastRun {
  const { tasks: _tasks, ...summary } = result.summary;
  return {
    finishedAt: new Date().toISOString(),
    interrupted: result.interrupted,
    summary,
    outcomes: result.outcomes.filter((o) => o.status === 'failed').map((o) => ({ id: o.id, status: o.status, error: o.error })),
  };
}

export function readLastRun(outDir: string): LastRun | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(outDir, LAST_RUN_FILE), 'utf8')) as LastRun;
  } catch {
    return undefined;
  }
}
