/**
 * What `watch` says about each build: with `--json`, one line per build, the `run --json` object with the
 * waiting tasks told apart (status "waiting", counted in `waiting`, not in `failed`); otherwise one short
 * line per rebuild: what changed, what ran, how long.
 */
import type { RunResult, RunSummary, TaskStatus } from '../../pipeline/index.js';
import { count, duration, plural } from '../format.js';

/** `run --json`'s object, plus `waiting`: parse tasks whose folder is still being written. */
export interface WatchSummary extends Omit<RunSummary, 'tasks'> {
  waiting: number;
  tasks: { id: string; status: TaskStatus | 'waiting'; ms: number }[];
}

export function watchSummary(result: RunResult, waiting: ReadonlySet<string>): WatchSummary {
  const s = result.summary;
  const failed = s.failed - waiting.size;
  return {
    ok: failed === 0 && !result.interrupted,
    durationMs: s.durationMs,
    executed: s.executed,
    cached: s.cached,
    failed,
    skipped: s.skipped,
    waiting: waiting.size,
    tasks: s.tasks.map((t) => (waiting.has(t.id) ? { ...t, status: 'waiting' as const } : t)),
  };
}

/** The result as `renderRunSummary` should see it: waiting tasks are not failures. */
export function withoutWaiting(result: RunResult, waiting: ReadonlySet<string>): RunResult {
  if (waiting.size === 0) return result;
  const summary = watchSummary(result, waiting);
  return {
    ...result,
    summary: { ...result.summary, ok: summary.ok, failed: summary.failed },
    outcomes: result.outcomes.filter((o) => !waiting.has(o.id)),
  };
}

/** What a rebuild was for, by partition name (`basic/bs16-w2-d09`). */
export interface ChangeSet {
  changed: string[];
  added: string[];
  removed: string[];
  /** Folders above the checkpoint level appeared or went (a new data fraction, say). */
  structure: string[];
}

function names(list: string[], shown = 3): string {
  const head = list.slice(0, shown).join(', ');
  return list.length > shown ? `${head} and ${count(list.length - shown)} more` : head;
}

/** `12:03:04 basic/bs16-w2-d09 added, 2 changed (...): 6 executed, 1,689 cached, 1 waiting in 0.41 s`. */
export function rebuildLine(changes: ChangeSet, summary: WatchSummary, at = new Date()): string {
  const parts: string[] = [];
  if (changes.added.length > 0) parts.push(`${plural(changes.added.length, 'folder')} added (${names(changes.added)})`);
  if (changes.changed.length > 0) parts.push(`${plural(changes.changed.length, 'folder')} changed (${names(changes.changed)})`);
  if (changes.removed.length > 0) parts.push(`${plural(changes.removed.length, 'folder')} removed (${names(changes.removed)})`);
  if (parts.length === 0 && changes.structure.length > 0) parts.push(`folders under ${names(changes.structure)} changed`);
  if (parts.length === 0) parts.push('full check');
  const ran = [`${count(summary.executed)} executed`, `${count(summary.cached)} cached`];
  if (summary.failed > 0) ran.push(`${count(summary.failed)} failed`);
  if (summary.waiting > 0) ran.push(`${count(summary.waiting)} waiting`);
  if (summary.skipped > 0) ran.push(`${count(summary.skipped)} skipped`);
  const time = at.toTimeString().slice(0, 8);
  return `${time} ${parts.join(', ')}: ${ran.join(', ')} in ${duration(summary.durationMs)}\n`;
}
