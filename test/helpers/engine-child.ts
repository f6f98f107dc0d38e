/**
 * A run of the rig in a child process, for tests that must kill a run (SIGKILL) or hold the lock from
 * another process. Started by `engine-process.ts`; prints one JSON line per engine event on stdout
 * (stdout to a pipe is synchronous, so every line printed before a kill arrives).
 *
 * argv[2]: JSON {root, hangOn?: string[], parseDelayMs?: number, jobs?: number, maxEntries?: number}
 */
import { join } from 'node:path';
import { openDefaultStore } from '../../cache/default-store.js';
import { openEngine } from '../../pipeline/engine.js';
import { CallCounter, rigDefinition } from './engine-rig.js';

interface ChildArgs {
  root: string;
  hangOn?: string[];
  parseDelayMs?: number;
  jobs?: number;
  maxEntries?: number;
}

const args = JSON.parse(process.argv[2]) as ChildArgs;
const send = (message: object): void => void process.stdout.write(`${JSON.stringify(message)}\n`);
const counter = new CallCounter();
const engine = await openEngine({
  definition: rigDefinition(args.root, counter, { hangOn: new Set(args.hangOn ?? []), parseDelayMs: args.parseDelayMs }),
  cacheDir: join(args.root, 'cache'),
  openStore: () => openDefaultStore(join(args.root, 'cache')),
  outDir: join(args.root, 'out'),
  jobs: args.jobs ?? 2,
  toolVersion: 'test-child',
  commit: args.maxEntries === undefined ? undefined : { maxEntries: args.maxEntries, maxDelayMs: 1 },
  lock: { command: 'engine-child (test)' },
  onEvent: (event) => send(event),
});
// Keeps the child alive until its run ends or it is killed. A `hangOn` task waits on a promise that holds
// no handle, and proper-lockfile's heartbeat timer is unref'd, so once every task that can finish has
// finished the event loop drains and Node exits (code 0, no 'done'), and proper-lockfile's exit handler
// removes the lock directory: the "live holder" a test relied on was gone. In 11 of 40 runs of "across
// processes" under load, the lock was free 7-15 ms after the test saw 'grid:basic' start.
const keepAlive = setInterval(() => {}, 3_600_000);
try {
  const result = await engine.run();
  send({ type: 'done', summary: result.summary, calls: Object.fromEntries(counter.calls) });
  await engine.close();
} finally {
  clearInterval(keepAlive);
}
