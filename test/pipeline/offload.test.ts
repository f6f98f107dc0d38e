/**
 * Tasks with an `offload` function run on the offload thread when many are queued (pipeline/builder/offload.ts):
 * the same values, notes and records as when they run here; a task the thread cannot run runs here, so a
 * failure is the task's own. The thread is the compiled dist/pipeline/builder/offload-worker.js (built by
 * `npm test`'s pretest); the tasks' offload module is written here, beside the tree.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDefaultStore } from '../../cache/default-store.js';
import { openEngine, type RunResult } from '../../pipeline/index.js';
import type { TaskDeclaration } from '../../pipeline/task.js';

/** Enough tasks to start the thread from 64 on (`offload: 64` below), each slow enough here that the thread gets some. */
const TASKS = 150;
const RUN_HERE_MS = 15;

const OFFLOAD_MODULE = `
export function runOffloaded(args, files) {
  if (args.offloadThrows) throw new Error('the offload function failed');
  const text = new TextDecoder().decode(files.get('n.txt'));
  return { value: new TextEncoder().encode(String(Number(text) * 2)), notes: ['doubled ' + text] };
}
`;

const codec = {
  id: 'number-text',
  encode: (v: unknown) => new TextEncoder().encode(String(v)),
  decode: (b: Uint8Array) => Number(new TextDecoder().decode(b)),
};

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mdpipe-offload-'));
  writeFileSync(join(root, 'offload.mjs'), OFFLOAD_MODULE);
  for (let k = 0; k < TASKS; k++) {
    mkdirSync(join(root, 'raw', `p${k}`), { recursive: true });
    writeFileSync(join(root, 'raw', `p${k}`, 'n.txt'), String(k));
  }
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

interface Options {
  offload: boolean;
  /** Task numbers whose offload function throws. */
  offloadThrows?: ReadonlySet<number>;
  /** Task numbers whose run function throws too. */
  runThrows?: ReadonlySet<number>;
}

function task(k: number, o: Options, ranHere: Set<number>): TaskDeclaration {
  return {
    id: `double:p${k}`,
    kind: 'double',
    codeVersion: '1',
    params: { k },
    files: [{ name: 'n.txt', path: join(root, 'raw', `p${k}`, 'n.txt') }],
    deps: [],
    codec,
    offload: { module: pathToFileURL(join(root, 'offload.mjs')).href, args: { offloadThrows: o.offloadThrows?.has(k) ?? false } },
    async run(ctx) {
      ranHere.add(k);
      await new Promise((resolve) => setTimeout(resolve, RUN_HERE_MS));
      if (o.runThrows?.has(k)) throw new Error(`run of p${k} failed`);
      const text = new TextDecoder().decode(ctx.files.get('n.txt')!);
      ctx.note(`doubled ${text}`);
      return { value: Number(text) * 2 };
    },
  };
}

async function build(name: string, o: Options): Promise<{ result: RunResult; ranHere: Set<number>; records: Map<string, unknown> }> {
  const ranHere = new Set<number>();
  const cacheDir = join(root, name, 'cache');
  const engine = await openEngine({
    definition: { tasks: Array.from({ length: TASKS }, (_, k) => task(k, o, ranHere)), partitioned: [] },
    cacheDir,
    openStore: () => openDefaultStore(cacheDir),
    outDir: join(root, name, 'out'),
    jobs: 2,
    offload: o.offload && 64,
  });
  try {
    const result = await engine.run();
    const store = openDefaultStore(cacheDir);
    const ids = Array.from({ length: TASKS }, (_, k) => `double:p${k}`);
    const records = new Map<string, unknown>();
    (await store.getRecords(ids)).forEach((r, k) => r && records.set(ids[k], { key: r.key, output: r.output, notes: r.notes }));
    await store.close();
    return { result, ranHere, records };
  } finally {
    await engine.close();
  }
}

test('the thread runs most tasks; values, notes and records are those of a build without it', async () => {
  const here = await build('here', { offload: false });
  const there = await build('there', { offload: true });
  expect(here.result.stats.offloaded).toBe(0);
  expect(here.ranHere.size).toBe(TASKS);
  expect(there.result.summary).toMatchObject({ ok: true, executed: TASKS });
  expect(there.result.stats.offloaded).toBeGreaterThan(TASKS / 2);
  expect(there.ranHere.size).toBe(TASKS - there.result.stats.offloaded);
  expect(there.records).toEqual(here.records);
  expect(there.records.get('double:p7')).toMatchObject({ notes: ['doubled 7'] });
}, 60_000);

test('a task the thread cannot run runs here: it succeeds if its run does, and fails with its own error if not', async () => {
  const failing = new Set([100, 101, 102, 140]);
  const { result, ranHere } = await build('fallback', { offload: true, offloadThrows: failing, runThrows: new Set([140]) });
  expect(result.stats.offloaded).toBeGreaterThan(0);
  for (const k of failing) expect(ranHere).toContain(k);
  const outcome = (k: number) => result.outcomes.find((o) => o.id === `double:p${k}`)!;
  expect(outcome(100).status).toBe('executed');
  expect(outcome(140).status).toBe('failed');
  expect(outcome(140).error).toContain('run of p140 failed');
  expect(outcome(140).error).not.toContain('offload function');
  expect(result.summary).toMatchObject({ executed: TASKS - 1, failed: 1 });
}, 60_000);

test('fewer tasks than make a thread worth starting all run here', async () => {
  const ranHere = new Set<number>();
  const cacheDir = join(root, 'few', 'cache');
  const engine = await openEngine({
    definition: { tasks: Array.from({ length: 20 }, (_, k) => task(k, { offload: true }, ranHere)), partitioned: [] },
    cacheDir,
    openStore: () => openDefaultStore(cacheDir),
    outDir: join(root, 'few', 'out'),
    jobs: 2,
    offload: true,
  });
  try {
    const result = await engine.run();
    expect(result.summary).toMatchObject({ ok: true, executed: 20 });
    expect(result.stats.offloaded).toBe(0);
    expect(ranHere.size).toBe(20);
  } finally {
    await engine.close();
  }
}, 60_000);
