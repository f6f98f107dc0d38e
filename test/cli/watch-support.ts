/**
 * What the `mdpipe watch` tests share: its JSON lines, waiting for a condition, stopping it with Ctrl-C.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Spawned } from './support.js';

export interface BuildLine {
  ok: boolean;
  executed: number;
  failed: number;
  waiting: number;
  tasks: { id: string; status: string }[];
}

export const lines = (w: Spawned): BuildLine[] =>
  w.output.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BuildLine);

/** Waits until `predicate` holds (polling), or fails after `ms` with what the watcher said. */
export async function until(w: Spawned, what: string, predicate: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline || w.child.exitCode !== null) {
      throw new Error(`timed out waiting for ${what}\n--- stdout\n${w.output.stdout}\n--- stderr\n${w.output.stderr}`);
    }
    await sleep(100);
  }
}

export const OUTPUTS = ['dataframe.csv', 'dictionary.json', 'grid.npz', 'report.json'];
export const sameOutputs = (dir: string, a: string, b: string): boolean =>
  ['basic', 'noisy'].every((c) =>
    OUTPUTS.every((name) => {
      const [x, y] = [path.join(dir, a, c, name), path.join(dir, b, c, name)];
      return fs.existsSync(x) && fs.existsSync(y) && fs.readFileSync(x).equals(fs.readFileSync(y));
    }),
  );

/** Every checkpoint folder of a small project, relative to it. */
export function checkpointFolders(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const sub = path.join(rel, entry.name);
      if (entry.name === 'metrics') found.push(sub);
      else walk(sub);
    }
  };
  walk('raw');
  return found.sort();
}

export async function stop(w: Spawned): Promise<number | null> {
  w.child.kill('SIGINT');
  const ran = await w.done;
  // A watcher that did not stop cleanly says why on stderr: show it with the failing code.
  if (ran.code !== 0 && ran.code !== 130) process.stderr.write(`watch exited ${ran.code}; its stderr:\n${ran.stderr}\n`);
  return ran.code;
}

