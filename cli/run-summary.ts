/**
 * The one-screen summary printed after `run` (and `demo`): the counts and the time, where each
 * collection's outputs are, what was missing (from each collection's `report.json`), and the failed tasks
 * with their errors (the first few; `--json` has them all).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { NOT_STARTED_AFTER_FAILURE, type RunResult, type TaskOutcome } from '../pipeline/index.js';
import { EXPORT_FILES } from '../tasks/export.js';
import { count, displayPath, duration, foldedList, plural, sortedByNumbers } from './format.js';
import { groupOf } from './task-table.js';

/** Failed tasks listed in full before "and K more". */
export const FAILURES_SHOWN = 5;

/** What the summary reads of a collection's `report.json` (written by the export task). */
interface CoverageReport {
  configurations?: { expected?: number; found?: number };
  warnings?: string[];
  outsideAxes?: { folder: string; reason: string }[];
}

/** Folders outside the axes named in the summary before "and K more" (report.json lists them all). */
const OUTSIDE_SHOWN = 3;

export function renderRunSummary(result: RunResult, config: ResolvedConfig, cwd = process.cwd()): string {
  const s = result.summary;
  const lines: string[] = [];
  const counts = `${count(s.executed)} executed · ${count(s.cached)} cached · ${count(s.failed)} failed · ${count(s.skipped)} skipped`;
  const time = duration(s.durationMs);
  const total = s.executed + s.cached + s.failed + s.skipped;
  if (result.interrupted) lines.push(`mdpipe: interrupted after ${time}, at ${count(total - s.skipped)} of ${plural(total, 'task')}: ${counts}`);
  else if (s.failed > 0) lines.push(`mdpipe: ${plural(s.failed, 'task')} failed (${time}): ${counts}`);
  else if (s.executed === 0) lines.push(`mdpipe: up to date, nothing to do (${time}): ${counts}`);
  else lines.push(`mdpipe: done in ${time}: ${counts}`);

  lines.push(...ranLines(result.outcomes));

  const byId = new Map(result.outcomes.map((o) => [o.id, o]));
  const outputLines: string[] = [];
  const missingLines: string[] = [];
  const reported: string[] = [];
  for (const collection of config.collections) {
    const exported = byId.get(`export:${collection.name}`);
    if (!exported) continue; // not selected by the targets
    const folder = path.join(config.outDir, collection.name);
    if (exported.status !== 'executed' && exported.status !== 'cached') {
      outputLines.push(`  ${collection.name}: not written this time (export:${collection.name} ${exported.status}${exported.reason ? `: ${exported.reason}` : ''})`);
      continue;
    }
    const report = readReport(path.join(folder, 'report.json'));
    const files = EXPORT_FILES.filter((f) => fs.existsSync(path.join(folder, f)));
    const rows = report?.configurations?.expected;
    const described = files.map((f) => (f === 'dataframe.csv' && rows !== undefined ? `${f} (${plural(rows, 'row')})` : f));
    outputLines.push(`  ${collection.name}: ${displayPath(folder, cwd)}${path.sep}  ${described.join(', ')}`);
    if (report) reported.push(collection.name);
    for (const warning of report?.warnings ?? []) missingLines.push(`  ${collection.name}: ${warning}`);
    missingLines.push(...outsideLines(collection.name, report?.outsideAxes ?? []));
  }
  if (outputLines.length > 0) {
    lines.push(`outputs (in ${displayPath(config.outDir, cwd)}${path.sep}):`, ...outputLines);
    if (missingLines.length > 0) lines.push("what was missing or noted (each collection's report.json has the details):", ...missingLines);
    else if (reported.length > 0) {
      lines.push(`nothing was missing in ${reported.join(', ')}: every configuration on the axes has all six metric files`);
    }
  }

  const failed = result.outcomes.filter((o) => o.status === 'failed');
  if (failed.length > 0) {
    lines.push(`failed tasks (${count(failed.length)}):`);
    for (const outcome of failed.slice(0, FAILURES_SHOWN)) lines.push(...describeFailure(outcome));
    if (failed.length > FAILURES_SHOWN) {
      lines.push(`  ... and ${count(failed.length - FAILURES_SHOWN)} more; see --json for every task, and the log for their errors`);
    }
    if (!result.interrupted) {
      const skipped = result.outcomes.filter((o) => o.status === 'skipped');
      const notStarted = skipped.filter((o) => o.reason === NOT_STARTED_AFTER_FAILURE).length;
      const blocked = skipped.length - notStarted;
      if (blocked > 0) lines.push(`${plural(blocked, 'task')} did not run because a task they need failed.`);
      if (notStarted > 0) lines.push(`${plural(notStarted, 'task')} did not start: --fail-fast stops starting tasks at the first failure.`);
    }
    lines.push('Fix or remove the files named above, then run again: only the failed tasks and what depends on them will run.');
  }
  return `${lines.join('\n')}\n`;
}

/** The first folders outside the axes, why, and how to include them. */
function outsideLines(collection: string, outside: readonly { folder: string; reason: string }[]): string[] {
  if (outside.length === 0) return [];
  const lines = outside.slice(0, OUTSIDE_SHOWN).map((o) => `    ${o.folder}: ${o.reason}`);
  if (outside.length > OUTSIDE_SHOWN) lines.push(`    ... and ${count(outside.length - OUTSIDE_SHOWN)} more (outsideAxes in report.json)`);
  lines.push(`    to include them, add the value to collections.${collection}.axes, or remove that axis to discover it from the tree`);
  return lines;
}

/**
 * Which tasks executed, folded by group: `parse:basic  3 executed: bs16-w2-d05, bs64-w16-d10, ...`, and
 * the single tasks on one line. Failed tasks are listed with their errors further down.
 */
function ranLines(outcomes: readonly TaskOutcome[]): string[] {
  const groups = new Map<string, string[]>();
  const single: string[] = [];
  for (const o of outcomes) {
    if (o.status !== 'executed') continue;
    const group = groupOf(o.id);
    if (group === o.id) single.push(o.id);
    else {
      const members = groups.get(group);
      if (members) members.push(o.id.slice(group.length - 1));
      else groups.set(group, [o.id.slice(group.length - 1)]);
    }
  }
  if (groups.size === 0 && single.length === 0) return [];
  const lines = ['executed:'];
  for (const [group, members] of groups) lines.push(`  ${group.slice(0, -2)}  ${count(members.length)}: ${foldedList(sortedByNumbers(members, String))}`);
  if (single.length > 0) lines.push(`  ${foldedList(single, 8)}`);
  return lines;
}

function describeFailure(outcome: TaskOutcome): string[] {
  const message = (outcome.error ?? 'failed (no message)').trimEnd().split('\n');
  return [`  ${outcome.id}`, ...message.map((line) => `    ${line}`)];
}

function readReport(file: string): CoverageReport | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CoverageReport;
  } catch {
    return undefined;
  }
}
