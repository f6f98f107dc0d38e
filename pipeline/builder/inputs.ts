/** Reading and hashing a task's input files, each at most once per run. */
import { sha256 } from '../../cache/digest.js';
import type { StatMemo } from '../../cache/store.js';
import { isMemoizable, memoOf, readFileWithStat } from '../file-state.js';
import type { BuildContext } from './context.js';
import type { InputRead } from './types.js';

/**
 * Reads and hashes task `i`'s input files: entries already in `reads` are kept, and with `onlyUnknown`
 * only files whose digest the stat memo could not vouch for are read. Stat memos for what was read go to
 * `memoize` (outside the racy window only).
 */
export function readInputs(
  c: BuildContext,
  i: number,
  reads: (InputRead | undefined)[],
  onlyUnknown: boolean,
  memoize: (i: number, memos: [string, StatMemo][]) => void,
): (InputRead | undefined)[] {
  const task = c.g.tasks[i];
  const table = c.files;
  // A task the partition index decided has no path numbers until it runs (a downstream task found its
  // value lost): its paths are numbered now, and their stats set below as each file is read.
  const paths = (c.t.taskPaths[i] ??= Int32Array.from(task.files, (file) => table.id(file.path)));
  const memos: [string, StatMemo][] = [];
  const nowMs = Date.now();
  for (let f = 0; f < task.files.length; f++) {
    if (reads[f] !== undefined) continue;
    const p = paths[f];
    if (onlyUnknown && (table.stat[p] === undefined || table.digest[p] !== undefined)) continue;
    const path = task.files[f].path;
    const read = readFileWithStat(path, task.files[f].maxBytes);
    if (!read) {
      table.stat[p] = undefined;
      reads[f] = { bytes: null, stat: undefined, digest: 'absent' };
      continue;
    }
    c.stats.filesHashed++;
    const digest = sha256(read.bytes);
    table.stat[p] = read.stat;
    table.digest[p] = digest;
    if (isMemoizable(read.stat, nowMs)) memos.push([path, memoOf(read.stat, digest)]);
    reads[f] = { bytes: read.bytes, stat: read.stat, digest };
  }
  if (memos.length > 0) memoize(i, memos);
  return reads;
}
