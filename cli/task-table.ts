/**
 * Task lists for `status` and `run --dry-run`, aggregated so thousands of partitions stay readable:
 * partitions fold into their group (`parse:basic/*  1,688 fresh · 2 stale`) with the non-fresh members
 * listed under it (the first few, or all with `--all`); other tasks get a line each.
 */
import { count, sortedByNumbers } from './format.js';

export interface TaskRow {
  id: string;
  /** `fresh`, `stale` (status) or `run`, `may run`, `fresh` (dry run). */
  state: string;
  reason: string;
}

/** Members of a group listed before "... and K more". */
export const MEMBERS_SHOWN = 10;

/** The group of a partition id (`parse:basic/bs16-w2-d10` → `parse:basic/*`); other ids are their own group. */
export function groupOf(id: string): string {
  const colon = id.indexOf(':');
  const slash = id.indexOf('/', colon + 1);
  return slash < 0 ? id : `${id.slice(0, slash)}/*`;
}

/** Counts per state, in first-seen order: `1,688 fresh · 2 stale`. */
export function tally(rows: readonly TaskRow[], order: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  return order.filter((s) => counts.has(s)).map((s) => `${count(counts.get(s)!)} ${s}`).join(' · ');
}

/**
 * @param rows tasks in graph order
 * @param order the states in display order; the first is the quiet one (not listed per member)
 * @param options.all list every member of every group, the quiet ones too
 * @param options.moreHint how to see the members left out (`--all lists every task`)
 */
export function renderTaskTable(rows: readonly TaskRow[], order: readonly string[], options: { all?: boolean; moreHint: string }): string {
  const all = options.all ?? false;
  const groups = new Map<string, TaskRow[]>();
  for (const row of rows) {
    const key = groupOf(row.id);
    const members = groups.get(key);
    if (members) members.push(row);
    else groups.set(key, [row]);
  }
  const width = Math.min(40, Math.max(0, ...[...groups.keys()].map((k) => k.length)));
  const quiet = order[0];
  const lines: string[] = [];
  for (const [key, members] of groups) {
    if (members.length === 1 && members[0].id === key) {
      const row = members[0];
      lines.push(`${key.padEnd(width)}  ${row.state}${row.state === quiet ? '' : `  ${row.reason}`}`);
      continue;
    }
    lines.push(`${key.padEnd(width)}  ${tally(members, order)}`);
    const listed = sortedByNumbers(all ? members : members.filter((m) => m.state !== quiet), (m) => m.id);
    const shown = all ? listed : listed.slice(0, MEMBERS_SHOWN);
    for (const m of shown) lines.push(`  ${m.state.padEnd(7)} ${m.id}${m.state === quiet ? '' : `  ${m.reason}`}`);
    if (shown.length < listed.length) lines.push(`  ... and ${count(listed.length - shown.length)} more (${options.moreHint})`);
  }
  return `${lines.join('\n')}\n`;
}
