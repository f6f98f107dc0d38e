/**
 * The run reporter's log lines: with --json (errors not in a printed summary) each failed task's error is
 * logged, up to FAILURES_LOGGED, then one line says the rest are in the JSON summary.
 */
import type { EngineEvent } from '../../pipeline/index.js';
import { createRunReporter, FAILURES_LOGGED } from '../../cli/run-reporter.js';
import type { Progress } from '../../cli/progress.js';

function logged(errorsInSummary: boolean, failures: number): { error: string[]; debug: string[] } {
  const lines = { error: [] as string[], debug: [] as string[] };
  const text = (args: unknown[]): string => String(args.find((a) => typeof a === 'string'));
  const logger = {
    trace: () => {},
    info: () => {},
    warn: () => {},
    debug: (...args: unknown[]) => void lines.debug.push(text(args)),
    error: (...args: unknown[]) => void lines.error.push(text(args)),
  };
  const progress: Progress = { start: () => {}, update: () => {}, stop: () => {} } as unknown as Progress;
  const reporter = createRunReporter(logger as never, progress, { errorsInSummary });
  for (let k = 0; k < failures; k++) {
    reporter.onEvent({ type: 'task-end', id: `parse:basic/p${k}`, kind: 'parse', status: 'failed', ms: 1, error: `task parse:basic/p${k} failed: lost` } as EngineEvent);
  }
  return lines;
}

describe('failed tasks in the log', () => {
  test(`with --json, the first ${FAILURES_LOGGED} errors one by one, then one line for the rest`, () => {
    const { error, debug } = logged(false, 3000);
    expect(error).toHaveLength(FAILURES_LOGGED + 1);
    expect(error.slice(0, FAILURES_LOGGED)).toEqual(Array.from({ length: FAILURES_LOGGED }, (_, k) => `task parse:basic/p${k} failed: lost`));
    expect(error[FAILURES_LOGGED]).toBe(`more than ${FAILURES_LOGGED} tasks failed: the rest are not logged one by one (each task's error is in the JSON summary on stdout)`);
    expect(debug.filter((l) => l.includes('failed: lost'))).toHaveLength(3000 - FAILURES_LOGGED); // still there with --debug
  });

  test('a few failures are all logged; without --json none are (the summary prints them)', () => {
    expect(logged(false, 5).error).toHaveLength(5);
    expect(logged(true, 50).error).toHaveLength(0);
  });
});
