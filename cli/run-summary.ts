/**
 * The one-screen summary printed after `run` (and `demo`): the counts and the time, where each
 * collection's outputs are, what was missing (from each collection's `report.json`), and the failed tasks
 * with their errors (the first few; `--json` has them all).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import type { RunResult, TaskOutcome } from '../pipeline/index.js';
import { EXPORT_FILES } from '../tasks/export.js';
import { count, displayPath, duration, plural } from './format.js';

/** Failed tasks listed in full before "and K more". */
export const FAILURES_SHOWN = 5;

/** What the summary reads of a collection's `report.json` (written by the export task). */
interface CoverageReport {
  configurations?: { expected?: number; found?: number };
  warnings?: string[];
}

export function renderRunSummary(result: RunResult, config: ResolvedConfig, cwd = process.cwd()): string {
  const s = result.summary;
  const lines: string[] = [];
  const counts = `${count(s.executed)} executed · ${count(s.cached)} cached · ${count(s.failed)} failed · ${count(s.skipped)} skipped`;
  const time = duration(s.durationMs);
  if (result.interrupted) lines.push(`mdpipe: interrupted after ${time}: ${counts}`);
  else if (s.failed > 0) lines.push(`mdpipe: ${plural(s.failed, 'task')} failed (${time}): ${counts}`);
  else if (s.executed === 0) lines.push(`mdpipe: up to date, nothing to do (${time}): ${counts}`);
  else lines.push(`mdpipe: done in ${time}: ${counts}`);

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
    const skipped = result.outcomes.filter((o) => o.status === 'skipped').length;
    if (skipped > 0 && !result.interrupted) lines.push(`${plural(skipped, 'task')} did not run because a task they need failed.`);
    lines.push('Fix or remove the files named above, then run again: only the failed tasks and what depends on them will run.');
  }
  return `${lines.join('\n')}\n`;
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
