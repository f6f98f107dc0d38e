/**
 * Engine events as log lines, for a pino-shaped logger (the engine's `logger` option, and the CLI's
 * reporter with its own levels). The logger itself is made by the caller (the CLI: cli/logger.ts).
 */
import type { Logger } from 'pino';
import { countText } from '../util/count-text.js';
import type { EngineEvent } from './events.js';

export type { Logger } from 'pino';

/**
 * The logging methods `logEvent` uses (a pino logger, or anything shaped like one). With `isLevelEnabled`
 * (pino has it), the per-task lines of a level that is off are not built at all: a no-op run ends 3,388
 * tasks, and making each line's fields and text to drop them was ~14 ms of its CPU profile (~1 ms now,
 * with the CLI's reporter).
 */
export type EventLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error'> & { isLevelEnabled?(level: string): boolean };
type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/**
 * The level of each kind of line. Failures are always errors, restored outputs info, warnings warn.
 * The engine's defaults suit a program using it as a library; the CLI, which draws its own progress bar
 * and prints a summary, logs the per-task lines, the notes and the run's end lower (`cliLevels` in cli/run-reporter.ts).
 */
export interface EventLevels {
  /** A failed task's error (the CLI prints it in its summary, so it logs it only with --debug). */
  failed: Level;
  /** Glob matches a partitioned kind declined (folders outside the axes). */
  skippedMatches: Level;
  taskStart: Level;
  executed: Level;
  /** Tasks that ended cached or skipped. */
  otherTaskEnd: Level;
  /** A task's notes (a missing metric file). */
  notes: Level;
  /** The run's one-line outcome: info when it went well, error when not; or one fixed level. */
  runEnd: Level | 'by-outcome';
}

export const ENGINE_LEVELS: EventLevels = {
  failed: 'error',
  skippedMatches: 'warn',
  taskStart: 'debug',
  executed: 'info',
  otherTaskEnd: 'debug',
  notes: 'warn',
  runEnd: 'by-outcome',
};

/** Logs an engine event at a level that suits it (failures as errors, cached tasks as debug). */
export function logEvent(logger: EventLogger, event: EngineEvent, levels: EventLevels = ENGINE_LEVELS): void {
  switch (event.type) {
    case 'discovered':
      logger.debug({ tasks: event.tasks, counts: event.counts }, `found ${countText(event.tasks)} tasks`);
      for (const s of event.skipped) {
        logger[levels.skippedMatches](
          { kind: s.kind, count: s.count, examples: s.examples },
          `skipped ${countText(s.count)} ${s.kind} match${s.count === 1 ? '' : 'es'}: ${s.reason} (e.g. ${s.examples.join(', ')})`,
        );
      }
      return;
    case 'planned':
      logger.debug({ total: event.total, targets: event.targets, forced: event.forced }, `checking ${countText(event.total)} tasks`);
      return;
    case 'task-start':
      if (enabled(logger, levels.taskStart)) logger[levels.taskStart]({ task: event.id, reason: event.reason }, `start ${event.id}`);
      return;
    case 'task-end': {
      const level =
        event.status === 'failed' ? levels.failed : event.restored ? 'info' : event.status === 'executed' ? levels.executed : levels.otherTaskEnd;
      if (enabled(logger, level)) {
        const fields = { task: event.id, status: event.status, ms: event.ms, reason: event.reason };
        // The message is the error: not repeated as a field.
        if (event.status === 'failed') logger[level](fields, event.error ?? `${event.id} failed`);
        else if (event.restored) logger[level](fields, `${event.id}: restored ${event.restored.join(', ')} from the cache`);
        else if (event.status === 'executed') logger[level](fields, `${event.id} executed (${event.reason ?? ''})`);
        else logger[level](fields, `${event.id} ${event.status}${event.reason ? ` (${event.reason})` : ''}`);
      }
      if (event.notes && enabled(logger, levels.notes)) for (const note of event.notes) logger[levels.notes]({ task: event.id }, `${event.id}: ${note}`);
      return;
    }
    case 'committed':
      logger.trace({ count: event.ids.length }, 'committed');
      return;
    case 'warning':
      logger.warn({ task: event.id }, event.message);
      return;
    case 'run-end': {
      const s = event.summary;
      const line = `${s.executed} executed, ${s.cached} cached, ${s.failed} failed, ${s.skipped} skipped in ${s.durationMs} ms`;
      const text = !s.ok ? (event.interrupted ? `interrupted: ${line}` : line) : s.executed + s.cached + s.failed + s.skipped === 0 ? 'nothing to do' : line;
      const level = levels.runEnd !== 'by-outcome' ? levels.runEnd : s.ok ? 'info' : 'error';
      logger[level]({ summary: { ...s, tasks: undefined }, interrupted: event.interrupted }, text);
      return;
    }
    default: {
      const never: never = event;
      logger.debug({ event: never }, 'event');
    }
  }
}

/** Whether lines at `level` are written (true for a logger that cannot tell). */
function enabled(logger: EventLogger, level: Level): boolean {
  return logger.isLevelEnabled?.(level) ?? true;
}
