/**
 * Spawns `engine-child.ts` through the TypeScript loader and follows its events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { EngineEvent } from '../../pipeline/events.js';

const here = dirname(fileURLToPath(import.meta.url));

export type ChildMessage = EngineEvent | { type: 'done'; summary: unknown; calls: Record<string, number> };

export interface EngineChild {
  readonly process: ChildProcess;
  readonly messages: ChildMessage[];
  /** Resolves once a message satisfies `predicate` (rejects if the child exits first). */
  waitFor(predicate: (messages: ChildMessage[]) => boolean): Promise<void>;
  /** Resolves with the exit code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

/** Children not yet exited, with their exits (see `killEngineChildren`). */
const live = new Map<ChildProcess, Promise<unknown>>();

/**
 * SIGKILLs every child still running: a child stays alive until its run ends (see engine-child.ts), so a
 * test that fails before killing one would otherwise leave it running, holding the lock, and keep jest up.
 */
export async function killEngineChildren(): Promise<void> {
  const exits = [...live].map(([child, exited]) => (child.kill('SIGKILL'), exited));
  await Promise.all(exits);
}

export function spawnEngineChild(args: Record<string, unknown>): EngineChild {
  const child = spawn(
    process.execPath,
    ['--import', join(here, 'engine-ts-loader.mjs'), join(here, 'engine-child.ts'), JSON.stringify(args)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const messages: ChildMessage[] = [];
  const waiters: { predicate: (m: ChildMessage[]) => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  let buffered = '';
  let stderr = '';
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(messages)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      messages.push(JSON.parse(buffered.slice(0, newline)) as ChildMessage);
      buffered = buffered.slice(newline + 1);
    }
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`child exited (${code ?? signal}) before the awaited event:\n${stderr}`));
      resolve({ code, signal, stderr });
    });
  });
  live.set(child, exited);
  return {
    process: child,
    messages,
    exited,
    waitFor: (predicate) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(messages)) return resolve();
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`child already exited:\n${stderr}`));
        waiters.push({ predicate, resolve, reject });
      }),
    kill: (signal) => void child.kill(signal),
  };
}

/** Ids in `task-end` messages with a status. */
export function endedWith(messages: readonly ChildMessage[], status: string): string[] {
  return messages.flatMap((m) => (m.type === 'task-end' && m.status === status ? [m.id] : []));
}

/** Ids the child reported durable. */
export function committedIds(messages: readonly ChildMessage[]): string[] {
  return messages.flatMap((m) => (m.type === 'committed' ? m.ids : []));
}
