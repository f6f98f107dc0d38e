/**
 * Renders a run's engine events for a person: the progress (bar or periodic lines) and the log lines
 * worth reading while it runs. A failed task is logged at once (error level) with its message, which names
 * the file; warnings at warn; tasks restored from the cache at info. Per-task lines (executed, cached) are
 * debug and trace: a cold run has thousands of them, and the summary at the end counts them.
 */
import type { EngineEvent } from '../pipeline/index.js';
import { count } from './format.js';
import type { Progress } from './progress.js';
import type { SessionLogger } from './session.js';

export interface RunReporter {
  onEvent(event: EngineEvent): void;
  /** Stops the progress display (call before printing the summary). */
  stop(): void;
}

export function createRunReporter(logger: SessionLogger, progress: Progress): RunReporter {
  let done = 0;
  const tally = { executed: 0, cached: 0, failed: 0, skipped: 0 };
  const detail = (): string =>
    `${count(tally.executed)} executed · ${count(tally.cached)} cached${tally.failed ? ` · ${count(tally.failed)} failed` : ''}`;
  return {
    onEvent(event) {
      switch (event.type) {
        case 'discovered':
          logger.debug({ tasks: event.tasks, counts: event.counts }, `found ${count(event.tasks)} tasks`);
          for (const s of event.skipped) {
            logger.debug({ kind: s.kind, count: s.count, examples: s.examples }, `not built: ${s.count} ${s.kind} folders: ${s.reason} (e.g. ${s.examples.join(', ')})`);
          }
          return;
        case 'planned':
          logger.debug({ total: event.total, targets: event.targets, forced: event.forced }, `checking ${count(event.total)} tasks`);
          progress.start(event.total);
          return;
        case 'task-start':
          logger.trace({ task: event.id, reason: event.reason }, `start ${event.id}`);
          return;
        case 'task-end': {
          done++;
          tally[event.status]++;
          progress.update(done, detail);
          const fields = { task: event.id, status: event.status, ms: event.ms };
          if (event.status === 'failed') logger.error({ task: event.id }, event.error ?? `${event.id} failed`);
          else if (event.restored) logger.info(fields, `${event.id}: restored ${event.restored.join(', ')} from the cache`);
          else if (event.status === 'executed') logger.debug({ ...fields, reason: event.reason }, `${event.id} executed (${event.reason ?? ''})`);
          else logger.trace({ ...fields, reason: event.reason }, `${event.id} ${event.status}`);
          for (const note of event.notes ?? []) logger.debug({ task: event.id }, `${event.id}: ${note}`);
          return;
        }
        case 'committed':
          logger.trace({ count: event.ids.length }, 'committed');
          return;
        case 'warning':
          logger.warn({ task: event.id }, event.message);
          return;
        case 'run-end':
          logger.debug({ summary: { ...event.summary, tasks: undefined }, interrupted: event.interrupted }, 'run finished');
          return;
        default: {
          const never: never = event;
          logger.debug({ event: never }, 'event');
        }
      }
    },
    stop() {
      progress.stop();
    },
  };
}
