/**
 * Renders a run's engine events for a person: the progress (bar or periodic lines) and the log lines
 * worth reading while it runs, through the engine's `logEvent` with the CLI's levels. A failed task is
 * logged at once (error level) with its message, which names the file; warnings at warn; tasks restored
 * from the cache at info. Per-task lines (executed, cached) and notes are debug and trace: a cold run has
 * thousands of them, and the summary at the end counts them (and the report lists what was missing).
 */
import { logEvent, type EngineEvent, type EventLevels } from '../pipeline/index.js';
import { count } from './format.js';
import type { Progress } from './progress.js';
import type { SessionLogger } from './session.js';

export interface RunReporter {
  onEvent(event: EngineEvent): void;
  /** Stops the progress display (call before printing the summary). */
  stop(): void;
}

/** `errorsInSummary`: the summary on stdout prints each failed task's error, so the log does not (once, not twice). */
const cliLevels = (errorsInSummary: boolean): EventLevels => ({
  failed: errorsInSummary ? 'debug' : 'error',
  skippedMatches: 'debug', // counted in the summary and listed in report.json
  taskStart: 'trace',
  executed: 'debug',
  otherTaskEnd: 'trace',
  notes: 'debug',
  runEnd: 'debug', // the summary is printed on stdout
});

/**
 * Failed tasks whose errors are logged one by one when the summary does not print them (`--json`); past
 * this, one line says so. A lost queue or a bad config fails thousands at once, and each error is in
 * the JSON summary on stdout anyway.
 */
export const FAILURES_LOGGED = 20;

export function createRunReporter(logger: SessionLogger, progress: Progress, options: { errorsInSummary: boolean } = { errorsInSummary: true }): RunReporter {
  const levels = cliLevels(options.errorsInSummary);
  const quieter = { ...levels, failed: 'debug' } as const;
  let done = 0;
  const tally = { executed: 0, cached: 0, failed: 0, skipped: 0 };
  const detail = (): string =>
    `${count(tally.executed)} executed · ${count(tally.cached)} cached${tally.failed ? ` · ${count(tally.failed)} failed` : ''}`;
  return {
    onEvent(event) {
      if (event.type === 'task-end') {
        tally[event.status]++;
        // Skipped tasks (after Ctrl-C, or below a failure) did not run: the bar stays where the work stopped.
        if (event.status !== 'skipped') done++;
        progress.update(done, detail);
      }
      const failedPastCap = event.type === 'task-end' && event.status === 'failed' && levels.failed !== 'debug' && tally.failed > FAILURES_LOGGED;
      if (failedPastCap && tally.failed === FAILURES_LOGGED + 1) {
        logger.error(`more than ${FAILURES_LOGGED} tasks failed: the rest are not logged one by one (each task's error is in the JSON summary on stdout)`);
      }
      logEvent(logger, event, failedPastCap ? quieter : levels);
      if (event.type === 'planned') progress.start(event.total);
    },
    stop() {
      progress.stop();
    },
  };
}
