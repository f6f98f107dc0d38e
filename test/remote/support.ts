/** What the queue tests share: the `run --json` shape with workers, and a project's outputs as bytes. */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary, TaskSummary } from '../../pipeline/events.js';
import { spawnMdpipe, type Spawned } from '../cli/support.js';

export type RemoteSummary = Omit<RunSummary, 'tasks'> & { tasks: (TaskSummary & { worker?: string })[] };

/**
 * Every file under `<dir>/out/<collection>/`, base64, by relative path. The run pages at the top of
 * `out/` (index.html, last-run.json, graph.*) record the run itself, so they differ between runs by design.
 */
export function outputsOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(path.join(dir, 'out'), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const c = entry.name;
    for (const name of fs.readdirSync(path.join(dir, 'out', c))) out[`${c}/${name}`] = fs.readFileSync(path.join(dir, 'out', c, name)).toString('base64');
  }
  return out;
}

/** Starts `mdpipe worker --queue URL` in `cwd`, adds it to `workers` (for the test to kill), waits until it listens. */
export async function startWorkerProcess(url: string, cwd: string, workers: Spawned[]): Promise<Spawned> {
  const worker = spawnMdpipe(['worker', '--queue', url], { cwd });
  workers.push(worker);
  await worker.waitForStderr(/takes jobs from/);
  return worker;
}
