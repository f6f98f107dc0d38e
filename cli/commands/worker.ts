/**
 * `mdpipe worker --queue URL`: runs partition tasks for coordinators (`mdpipe run --queue URL`), and the
 * coordinator side of `run --queue`, which `run-pipeline.ts` calls. The queue code is in remote/.
 */
import type { RunSummary } from '../../pipeline/index.js';
import type { RemoteExecutor } from '../../remote/coordinator.js';
import { EXIT } from '../exit-codes.js';
import type { Session } from '../session.js';
import { toolVersion } from '../version.js';

export interface WorkerFlags {
  queue: string;
  concurrency?: number;
}

export async function workerCommand(session: Session, flags: WorkerFlags): Promise<number> {
  const { startWorker } = await import('../../remote/worker.js');
  const { terminal, globals } = session;
  const log = (line: string): void => {
    if (!globals.quiet) terminal.err(`${new Date().toISOString()} ${line}\n`);
  };
  const concurrency = flags.concurrency ?? 1;
  const worker = await startWorker({ url: flags.queue, source: '--queue', toolVersion: toolVersion(), concurrency, onLog: log });
  terminal.err(`worker ${worker.name} (mdpipe ${toolVersion()}) takes jobs from ${worker.url.display}, ${concurrency} at a time; SIGTERM or Ctrl-C stops it after its running jobs\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      terminal.err(`${signal}: finishing running jobs, taking no new ones\n`);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await worker.close();
  terminal.err(`worker ${worker.name} stopped\n`);
  return EXIT.ok;
}

/** Tasks run at once by the engine when the work goes to a queue: enough calls in flight for many batches. */
export const QUEUE_JOBS = 256;

/** Opens the coordinator side of `run --queue`; warnings go where the engine's go. */
export async function openQueue(url: string, onWarning: (message: string) => void, onLost: () => void): Promise<RemoteExecutor> {
  const { RemoteExecutor } = await import('../../remote/coordinator.js');
  return RemoteExecutor.open({ url, source: '--queue', toolVersion: toolVersion(), onWarning, onLost });
}

/** `run --json` with a `worker` field on each remotely executed task. */
export function withWorkers(summary: RunSummary, remote: RemoteExecutor): RunSummary {
  return { ...summary, tasks: summary.tasks.map((t) => (remote.workerOf.has(t.id) ? { ...t, worker: remote.workerOf.get(t.id)! } : t)) };
}
