/**
 * The wording of changes (why a task runs): one line per `Change` of pipeline/fingerprint.ts, for the run
 * report, `status`, `explain` and dry runs. Presentation, so it lives in the CLI; the engine is given
 * `summarizeChanges` (cli/project.ts) and otherwise keeps the changes as data.
 */
import type { Change } from '../pipeline/index.js';
import type { Json } from '../util/json.js';

const short = (digest: string | undefined): string =>
  digest === undefined ? 'none' : digest === 'absent' || digest === 'unknown' ? digest : digest.slice(0, 12);
const json = (value: Json | undefined): string => (value === undefined ? '(unset)' : JSON.stringify(value));

/**
 * A parameter path as people read it: `params.outsideAxes[0]` → `outside axes, item 1`. The path is the
 * engine's own (`params.` and camelCase keys); `status` printed it raw, which named internals.
 */
function paramName(path: string): string {
  const parts: string[] = [];
  for (const m of path.replace(/^params\.?/, '').matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) parts.push(`item ${Number(m[2]) + 1}`);
    else parts.push(m[1].replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase());
  }
  return parts.join(', ');
}

function describeParam(path: string, old: Json | undefined, now: Json | undefined): string {
  const name = paramName(path);
  if (name === '') return `parameters changed (${json(old)} → ${json(now)})`;
  if (old === undefined) return `parameter ${name} added (${json(now)})`;
  if (now === undefined) return `parameter ${name} removed (was ${json(old)})`;
  return `parameter ${name} changed (${json(old)} → ${json(now)})`;
}

/** One line for a change; `full` prints whole digests (for `explain`) instead of 12-character prefixes. */
export function describeChange(change: Change, full = false): string {
  const d = full ? (x: string | undefined) => x ?? 'none' : short;
  switch (change.field) {
    case 'record':
      return change.detail === 'absent'
        ? 'no stored result (never built, or the last run failed or was interrupted)'
        : 'stored output is missing from the cache';
    case 'forced':
      return 'forced';
    case 'schema':
      return `cache schema changed (${change.old} → ${change.new})`;
    case 'kind':
      return `kind changed (${change.old} → ${change.new})`;
    case 'codeVersion':
      return `code version changed (${change.old} → ${change.new})`;
    case 'params':
      return describeParam(change.path, change.old, change.new);
    case 'file':
      if (change.old === undefined) return `new input ${change.name} (${change.path})`;
      if (change.new === undefined) return `input ${change.name} no longer declared (${change.path})`;
      return `input ${change.name} changed: ${change.path} (${d(change.old)} → ${d(change.new)})`;
    case 'missing-input':
      return `input ${change.name} is missing: ${change.path} (the task will fail until it is restored)`;
    case 'dep':
      if (change.new === 'unknown') return `upstream ${change.id} would re-run (this task re-runs if its output changes)`;
      if (change.old === undefined) return `new upstream ${change.id}`;
      if (change.new === undefined) return `upstream ${change.id} removed`;
      return `upstream ${change.id} output changed (${d(change.old)} → ${d(change.new)})`;
    default: {
      const never: never = change;
      return String(never);
    }
  }
}

/** A one-line reason: the first change, and how many more there are. */
export function summarizeChanges(changes: readonly Change[]): string {
  if (changes.length === 0) return 'up to date';
  const first = describeChange(changes[0]);
  return changes.length === 1 ? first : `${first} (+${changes.length - 1} more)`;
}
