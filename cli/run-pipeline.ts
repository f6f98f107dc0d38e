/**
 * Runs the pipeline for `run` and `demo`: progress while it works, then the one-screen summary (or, with
 * `--json`, exactly the engine's RunSummary on stdout and nothing else), Ctrl-C handling, and the exit code.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { DryRunResult, RunResult } from '../pipeline/index.js';
import { LockedError } from '../pipeline/index.js';
import { EXIT } from './exit-codes.js';
import { count, displayPath, plural } from './format.js';
import { trapInterrupt } from './interrupt.js';
import { chooseProgressMode, createProgress } from './progress.js';
import { openProject } from './project.js';
import { createRunReporter } from './run-reporter.js';
import { layoutStats } from './graph-layout.js';
import { prepareRunPages, writeRunPages } from './run-pages.js';
import { renderRunSummary } from './run-summary.js';
import { createSessionLogger, type Session } from './session.js';
import type { SharedCacheFlags } from './shared-cache.js';
import { renderTaskTable } from './task-table.js';

/** The options of `run` (and `demo`). */
export interface RunFlags extends SharedCacheFlags {
  /** `--queue URL`: partition tasks go to workers (`mdpipe worker`). */
  queue?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
  jobs?: number;
  wait?: boolean;
  /** `--fail-fast`: no new task starts after a failure. */
  failFast?: boolean;
  /** `--no-progress` sets it false. */
  progress?: boolean;
}

export interface PipelineRun {
  code: number;
  /** Absent for a dry run. */
  result?: RunResult;
}

export async function runPipeline(session: Session, config: ResolvedConfig, targets: string[], flags: RunFlags): Promise<PipelineRun> {
  const { terminal, globals } = session;
  for (const { name, root } of config.notFound ?? []) {
    terminal.err(`note: collection ${name} of the built-in configuration not found (no folder ${displayPath(root)}): building the others\n`);
  }
  const logger = await createSessionLogger(session);
  const mode = chooseProgressMode(terminal, { quiet: globals.quiet, json: flags.json, progress: flags.progress });
  const progress = createProgress(mode, terminal, 'tasks', (text) => logger.info(text));
  const reporter = createRunReporter(logger, progress, { errorsInSummary: !flags.json });
  const queue = flags.queue && !flags.dryRun ? await import('./commands/worker.js') : undefined;
  // The queue's Redis lost for good stops the run as Ctrl-C would (no new task; finished ones are stored).
  const queueLost = new AbortController();
  const remote = queue && (await queue.openQueue(flags.queue!, (message) => reporter.onEvent({ type: 'warning', message }), () => queueLost.abort()));
  const engine = await openProject(session, config, {
    jobs: remote ? Math.max(flags.jobs ?? config.jobs ?? 0, queue.QUEUE_JOBS) : flags.jobs,
    wrapDefinition: remote ? (definition) => remote.wrap(definition) : undefined,
    onEvent: (event) => reporter.onEvent(event),
    shared: { mode: flags.dryRun ? 'read' : 'run', flags },
  }).catch(async (error: unknown) => {
    await remote?.close();
    throw error;
  });
  const trap = trapInterrupt(() => {
    terminal.err('stopping: no new task starts; running tasks finish and are stored (Ctrl-C again to quit at once)\n');
    if (remote) void remote.cancel();
  });
  try {
    if (flags.dryRun) {
      const plan = await engine.dryRun({ targets, force: flags.force });
      terminal.out(flags.json ? `${JSON.stringify(plan)}\n` : renderPlan(plan));
      return { code: EXIT.ok };
    }
    let result: RunResult;
    if (targets.length === 0) prepareRunPages(engine, config);
    try {
      result = await engine.run({ targets, force: flags.force, wait: flags.wait, keepGoing: !flags.failFast, signal: AbortSignal.any([trap.signal, queueLost.signal]) });
    } catch (error) {
      if (error instanceof LockedError && trap.interrupted) {
        reporter.stop();
        terminal.err('interrupted while waiting for the cache lock: nothing was run\n');
        return { code: EXIT.interrupted };
      }
      throw error;
    }
    reporter.stop();
    if (globals.debug) terminal.err(`engine: ${JSON.stringify(result.stats)}\n`);
    await writePages(engine, config, result, terminal);
    const s = result.summary;
    if (flags.json) terminal.out(`${JSON.stringify(remote ? queue.withWorkers(withErrors(result), remote) : withErrors(result))}\n`);
    else if (!globals.quiet || s.failed > 0 || result.interrupted) terminal.out(renderRunSummary(result, config));
    if (remote?.lost) {
      terminal.err(`error: ${remote.lost.message}\n`);
      return { code: EXIT.failed, result };
    }
    if (result.interrupted) {
      const finished = s.executed + s.cached + s.failed;
      terminal.err(`interrupted: ${plural(finished, 'task')} finished, ${count(s.skipped)} not started; run again to continue\n`);
      return { code: EXIT.interrupted, result };
    }
    return { code: s.failed > 0 ? EXIT.failed : EXIT.ok, result };
  } finally {
    reporter.stop();
    trap.dispose();
    await engine.close();
    if (globals.debug) terminal.err(`graph layouts: ${JSON.stringify(layoutStats)}\n`);
    if (remote && globals.debug) terminal.err(`queue ${remote.url.display}: ${JSON.stringify(remote.stats)}\n`);
    await remote?.close();
  }
}

/** index.html and its companions (cli/run-pages.ts); a page that cannot be written is a warning, not a failed run. */
async function writePages(engine: Parameters<typeof writeRunPages>[0], config: ResolvedConfig, result: RunResult, terminal: Session['terminal']): Promise<void> {
  try {
    await writeRunPages(engine, config, result);
  } catch (error) {
    terminal.err(`warning: could not write ${config.outDir}/index.html: ${(error as Error).message}\n`);
  }
}

/** The `run --json` summary, each failed task with its `error` message (the outcomes have it). */
export function withErrors(result: RunResult): RunResult['summary'] {
  const errors = new Map(result.outcomes.filter((o) => o.status === 'failed').map((o) => [o.id, o.error ?? 'failed (no message)']));
  if (errors.size === 0) return result.summary;
  return { ...result.summary, tasks: result.summary.tasks.map((t) => (errors.has(t.id) ? { ...t, error: errors.get(t.id) } : t)) };
}

/** `run --dry-run`: what would run and why, from the same planner as a real run. */
export function renderPlan(plan: DryRunResult): string {
  const rows = plan.tasks.map((t) => ({
    id: t.id,
    state: t.action === 'run' ? 'run' : t.action === 'fresh' ? 'fresh' : 'may run',
    reason: t.reason,
  }));
  const head =
    plan.run + plan.runIfUpstreamChanges === 0
      ? `nothing would run: ${plural(plan.fresh, 'task')} fresh\n`
      : `would run ${plural(plan.run, 'task')}` +
        (plan.runIfUpstreamChanges > 0 ? `, and ${count(plan.runIfUpstreamChanges)} more if their upstream output changes` : '') +
        `; ${count(plan.fresh)} fresh (nothing was run or written)\n`;
  return head + renderTaskTable(rows, ['fresh', 'run', 'may run'], { moreHint: '--dry-run --json lists every task' });
}
