/** What the queue tests share: the `run --json` shape with workers, and a project's outputs as bytes. */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary, TaskSummary } from '../../pipeline/events.js';

export type RemoteSummary = Omit<RunSummary, 'tasks'> & { tasks: (TaskSummary & { worker?: string })[] };

/** Every file under `<dir>/out/<collection>/`, base64, by relative path. */
export function outputsOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of fs.readdirSync(path.join(dir, 'out'))) {
    for (const name of fs.readdirSync(path.join(dir, 'out', c))) out[`${c}/${name}`] = fs.readFileSync(path.join(dir, 'out', c, name)).toString('base64');
  }
  return out;
}
