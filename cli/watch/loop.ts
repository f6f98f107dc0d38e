/**
 * `mdpipe watch`: one build at the start, then a rebuild whenever changed checkpoint folders have been
 * quiet for `--quiet-ms`, until Ctrl-C.
 *
 * - The cache lock is taken once and held across builds (`EngineOptions.heldLock`), so a concurrent
 *   `mdpipe run` is refused (or, with --wait, queued), naming this process.
 * - The watcher's paths decide what is rebuilt: a rebuild targets the export of each collection with a
 *   quiet changed folder (the engine checks that collection's inputs; other collections are not
 *   touched), and the graph is discovered again only when folders may have appeared or gone (a path
 *   above the checkpoint level, a folder not in the graph or no longer there). The whole tree is checked
 *   (discovery and every task) at the start, after a watcher error, and every FULL_CHECK_MS.
 * - A folder that is still being written is not a failure: see `definition.ts`.
 */
import { existsSync } from 'node:fs';
import { openDefaultStore } from '../../cache/default-store.js';
import type { SharedTier } from '../../cache/shared/open.js';
import type { ResolvedConfig } from '../../config/load.js';
import {
  acquireProjectLock,
  LockedError,
  type Engine,
  type EngineEvent,
  type ProjectLock,
  type RunResult,
} from '../../pipeline/index.js';
import { defineDataset, taskId } from '../../tasks/index.js';
import { EXIT } from '../exit-codes.js';
import { count, duration, plural } from '../format.js';
import { trapInterrupt } from '../interrupt.js';
import { chooseProgressMode, createProgress } from '../progress.js';
import { openProject } from '../project.js';
import { openChosenTier, type SharedCacheFlags } from '../shared-cache.js';
import { createRunReporter } from '../run-reporter.js';
import { renderRunSummary } from '../run-summary.js';
import { createSessionLogger, type Session } from '../session.js';
import { UsageError } from '../usage-error.js';
import { isStillBeingWritten, lastWrite, watchDefinition, type FolderTask, type WatchDefinition } from './definition.js';
import { meaningOf, watchedRoot } from './folders.js';
import { watchFolder, watchTrees, type FsWatch } from './fs-watcher.js';
import { PendingChanges, type PendingEntry } from './pending.js';
import { rebuildLine, watchSummary, withoutWaiting, type ChangeSet } from './report.js';

export interface WatchFlags extends SharedCacheFlags {
  quietMs: number;
  json?: boolean;
  jobs?: number;
  /** `--no-progress` sets it false (the first build's progress; rebuilds show none). */
  progress?: boolean;
  /** Wait for a run holding the cache lock instead of failing. */
  wait?: boolean;
}

/** How often the whole tree is checked even without a watcher error (5 min): inotify can miss what NFS does. */
const FULL_CHECK_MS = 5 * 60_000;

export async function watchProject(session: Session, config: ResolvedConfig, targets: string[], flags: WatchFlags): Promise<number> {
  const roots = config.collections.flatMap((c) => (c.kind === 'raw' ? [watchedRoot(c)] : []));
  if (roots.length === 0) {
    throw new UsageError('the configuration has no raw collection to watch (only published grids)', 'add a collection with a "raw" folder, or use `mdpipe run`');
  }
  const logger = await createSessionLogger(session);
  const { terminal, globals } = session;
  const pending = new PendingChanges(flags.quietMs);
  let wake: () => void = () => {};
  let fullCheckDue = false;
  let lockLost: Error | undefined;
  // SIGTERM (a service manager, `kill`) stops it as Ctrl-C does: at once between builds, else after the
  // running tasks are stored; exit 143 rather than 130 when it stopped a build.
  const trap = trapInterrupt(
    (signal) => terminal.err(`${signal === 'SIGINT' ? '' : `${signal}: `}stopping: no new task starts; running tasks finish and are stored (Ctrl-C again to quit at once)\n`),
    ['SIGINT', 'SIGTERM'],
  );
  trap.signal.addEventListener('abort', () => wake());

  let lock: ProjectLock | undefined;
  let store: ReturnType<typeof openDefaultStore> | undefined;
  let sharedTier: SharedTier | undefined;
  let fsWatch: FsWatch | undefined;
  let engine: Engine | undefined;
  let current: WatchDefinition | undefined;
  const folderWatches = new Map<string, FsWatch>();
  try {
    try {
      lock = await acquireProjectLock(config.cacheDir, {
        command: session.command,
        wait: flags.wait,
        signal: trap.signal,
        onCompromised: (error) => {
          lockLost = error;
          wake();
        },
      });
    } catch (error) {
      if (error instanceof LockedError && trap.interrupted) {
        terminal.err('interrupted while waiting for the cache lock: nothing was run\n');
        return trap.exitCode;
      }
      throw error;
    }
    // The shared cache, as `run` uses it (cli/shared-cache.ts): every build of the session reads through it
    // and writes to it, so a team's watchers and runs share what any of them built.
    sharedTier = await openChosenTier(config, flags, 'run', (message) => logger.warn(message));
    store = openDefaultStore(config.cacheDir, sharedTier?.storeTier);
    // Watch before the first build, so that nothing written during it is missed.
    fsWatch = await watchTrees(
      roots.map((r) => r.root),
      (changes) => {
        const now = Date.now();
        for (const change of changes) {
          const meaning = meaningOf(roots, change.path);
          if (meaning) pending.note(meaning, now);
        }
        wake();
      },
      (error) => {
        const hint = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? ' (no inotify watch left: raise fs.inotify.max_user_watches)' : '';
        logger.warn(`the file watcher lost track (${error.message})${hint}; checking the whole tree`);
        fullCheckDue = true;
        wake();
      },
    );

    /** Checkpoint folders there at start-up (the root subscriptions watch them) and, apart, those made since. */
    let initialFolders: Set<string> | undefined;
    /** Watches the folders made since start-up (see fs-watcher.ts), and drops the watches of those gone. */
    const watchNewFolders = (def: WatchDefinition, startedAt: number): void => {
      const folders = [...def.tasks.values(), ...def.writing];
      initialFolders ??= new Set([...def.tasks.values()].map((t) => t.folder));
      const present = new Set(folders.map((t) => t.folder));
      for (const [folder, w] of folderWatches) {
        if (present.has(folder)) continue;
        void w.close();
        folderWatches.delete(folder);
      }
      for (const t of folders) {
        const meaning = meaningOf(roots, t.folder);
        if (!meaning || initialFolders.has(t.folder) || folderWatches.has(t.folder)) continue;
        folderWatches.set(
          t.folder,
          watchFolder(t.folder, () => {
            pending.note(meaning, Date.now());
            wake();
          }),
        );
        // Written after discovery looked and before the watch took effect: not missed either.
        const at = lastWrite(t.files);
        if (at >= startedAt) pending.note(meaning, at);
      }
    };

    /** The last discovery, even one whose engine could not open (see the start build's retry). */
    let discovered: WatchDefinition | undefined;

    /** Discovers the graph again (folders still being written left out) and opens an engine on it. */
    const open = async (onEvent: (event: EngineEvent) => void, startedAt: number): Promise<void> => {
      const known = new Set(current ? [...current.tasks.values()].map((t) => t.folder) : []);
      const next = (discovered = watchDefinition(defineDataset(config), known, (f) => {
        const at = Math.max(pending.changedAt(f.folder) ?? 0, lastWrite(f.files));
        if (Date.now() - at >= flags.quietMs) return true;
        const meaning = meaningOf(roots, f.folder);
        if (meaning) pending.note(meaning, at); // built once it is quiet
        return false;
      }));
      const opened = await openProject(session, config, { jobs: flags.jobs, onEvent, engine: { definition: next.definition, store, heldLock: lock } });
      await engine?.close();
      engine = opened;
      current = next;
      watchNewFolders(next, startedAt);
    };

    /** One build; returns its result, or undefined when it could not run (the error was reported). */
    const build = async (mode: 'start' | 'full' | 'changes', due: PendingEntry[]): Promise<RunResult | undefined> => {
      const startedAt = Date.now();
      const progressMode = mode === 'start' ? chooseProgressMode(terminal, { quiet: globals.quiet, json: flags.json, progress: flags.progress }) : 'none';
      const progress = createProgress(progressMode, terminal, 'tasks', (text) => logger.info(text));
      // Failures are logged after the build, once told apart from folders still being written.
      const reporter = createRunReporter({ ...logger, error: () => {} }, progress);
      const before = current;
      try {
        const structural = due.some((e) => e.kind === 'structure' || !existsSync(e.path) || !hasFolder(current, e.path));
        if (mode !== 'changes' || structural || !engine) await open((event) => reporter.onEvent(event), startedAt);
        current!.thrown.clear();
        const collections = [...new Set(due.map((e) => e.collection))];
        const scope = targets.length > 0 || mode !== 'changes' ? targets : collections.map((c) => taskId('export', c));
        logger.debug(
          { due: due.map((e) => `${e.kind} ${e.path}`), rediscovered: mode !== 'changes' || structural, writing: current!.writing.map((t) => t.id), targets: scope },
          `${mode} build`,
        );
        const result = await engine!.run({ targets: scope, signal: trap.signal });
        reporter.stop();
        logger.debug(`engine: ${JSON.stringify(result.stats)}`); // as `run --debug` prints them
        const waiting = classify(result, current!, startedAt);
        report(mode, result, waiting, changeSet(before, current!, due));
        return result;
      } catch (error) {
        reporter.stop();
        if (mode === 'start') {
          // Started while results were landing: the folders still being written were left out, and
          // without them a collection may have no checkpoint yet (a configuration error on a settled
          // tree). Wait one quiet period and discover again rather than stop.
          const writing = discovered && discovered !== current ? discovered.writing.length : 0;
          if (writing === 0 || trap.signal.aborted) throw error;
          logger.info(`${plural(writing, 'checkpoint folder')} still being written: the first build starts once they are quiet`);
          await new Promise((resolve) => setTimeout(resolve, flags.quietMs));
          return trap.signal.aborted ? undefined : build('start', due);
        }
        pending.restore(due, Date.now()); // retried after another quiet period, not in a tight loop
        logger.error(`the rebuild could not run: ${(error as Error).message}`);
        return undefined;
      }
    };

    /** Failed parse tasks whose folder is still being written: logged as waiting, noted for a retry. */
    const classify = (result: RunResult, def: WatchDefinition, startedAt: number): Set<string> => {
      const waiting = new Set<string>();
      for (const o of result.outcomes) {
        if (o.status !== 'failed') continue;
        const task = def.tasks.get(o.id);
        const thrown = def.thrown.get(o.id);
        const changedAt = task ? Math.max(pending.changedAt(task.folder) ?? 0, lastWrite(task.files)) : 0;
        if (task && isStillBeingWritten(changedAt, startedAt, flags.quietMs, thrown?.reason)) {
          waiting.add(o.id);
          const meaning = meaningOf(roots, task.folder);
          if (meaning) pending.note(meaning, changedAt);
          logger.info(
            { task: o.id, reason: thrown?.reason ?? 'changed while read' },
            `waiting: ${thrown?.file ?? task.folder} is still being written (${thrown?.reason ?? 'it changed while being read'}); ${o.id} is retried once the folder has been quiet for ${count(flags.quietMs)} ms`,
          );
        } else logger.error({ task: o.id }, o.error ?? `${o.id} failed`);
      }
      return waiting;
    };

    const report = (mode: 'start' | 'full' | 'changes', result: RunResult, waiting: Set<string>, changes: ChangeSet): void => {
      const summary = watchSummary(result, waiting);
      if (flags.json) terminal.out(`${JSON.stringify(summary)}\n`);
      else if (mode === 'start') {
        if (!globals.quiet || summary.failed > 0) terminal.out(renderRunSummary(withoutWaiting(result, waiting), config));
      } else if (!globals.quiet && (summary.executed + summary.failed + summary.waiting > 0 || changes.added.length + changes.removed.length > 0)) {
        terminal.out(rebuildLine(changes, summary));
      } else logger.debug(rebuildLine(changes, summary).trimEnd());
    };

    const first = await build('start', []);
    if (first?.interrupted) return trap.exitCode;
    const folders = current ? current.tasks.size : 0;
    if (!flags.json && !globals.quiet) {
      terminal.err(
        `watching ${plural(folders, 'checkpoint folder')} under ${plural(roots.length, 'raw root')}; a changed folder is rebuilt once quiet for ${duration(flags.quietMs)}. Ctrl-C to stop.\n`,
      );
    }
    let nextFullCheck = Date.now() + FULL_CHECK_MS;
    for (;;) {
      if (trap.interrupted) return EXIT.ok;
      if (lockLost) throw lockLost;
      const now = Date.now();
      if (fullCheckDue || now >= nextFullCheck) {
        fullCheckDue = false;
        nextFullCheck = now + FULL_CHECK_MS;
        const result = await build('full', pending.take(now));
        if (result?.interrupted) return trap.exitCode;
        continue;
      }
      const due = pending.take(now);
      if (due.length > 0) {
        const result = await build('changes', due);
        if (result?.interrupted) return trap.exitCode;
        continue;
      }
      const wait = Math.min(pending.untilDue(now) ?? Infinity, nextFullCheck - now);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = () => {};
    }
  } finally {
    trap.dispose();
    await fsWatch?.close();
    await Promise.all([...folderWatches.values()].map((w) => w.close()));
    await engine?.close();
    await store?.close();
    await sharedTier?.redis.close();
    await lock?.release();
  }
}

function hasFolder(def: WatchDefinition | undefined, folder: string): boolean {
  if (!def) return false;
  for (const t of def.tasks.values()) if (t.folder === folder) return true;
  return false;
}

/** The partition names (`basic/bs16-w2-d09`) of the due folders: added, changed, removed. */
function changeSet(before: WatchDefinition | undefined, after: WatchDefinition, due: readonly PendingEntry[]): ChangeSet {
  const byFolder = (def: WatchDefinition | undefined): Map<string, FolderTask> => new Map(def ? [...def.tasks.values()].map((t) => [t.folder, t]) : []);
  const [old, now] = [byFolder(before), byFolder(after)];
  const name = (t: FolderTask): string => t.id.slice(t.id.indexOf(':') + 1);
  const set: ChangeSet = { changed: [], added: [], removed: [], structure: [] };
  for (const e of due) {
    if (e.kind === 'structure') {
      if (!set.structure.includes(e.collection)) set.structure.push(e.collection);
      continue;
    }
    const [was, is] = [old.get(e.path), now.get(e.path)];
    if (was && is) set.changed.push(name(is));
    else if (is) set.added.push(name(is));
    else if (was) set.removed.push(name(was));
  }
  // Folders found by a new discovery that no event named (created with the folders above them).
  if (before) for (const [folder, t] of now) if (!old.has(folder) && !set.added.includes(name(t))) set.added.push(name(t));
  if (before) for (const [folder, t] of old) if (!now.has(folder) && !set.removed.includes(name(t))) set.removed.push(name(t));
  return set;
}

