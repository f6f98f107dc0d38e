/**
 * The engine side of the incremental contract (pipeline/task.ts): `ctx.previous` for `incremental: true`
 * tasks, `ctx.upstream` decoded lazily (only what is read), and a task's own `codec` (in its key).
 *
 * Graph: `leaf:a`, `leaf:b`, `leaf:c` read one file each and keep its number with a counting codec;
 * `sum:all` (incremental) adds them up and publishes `sum.txt`. When it has a previous result it patches
 * it: reads only the changed leaves and subtracts the removed ones, so how many values were decoded
 * shows what the engine gave it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDefaultStore } from '../../cache/default-store.js';
import { summarizeChanges } from '../../cli/change-text.js';
import { openEngine, type Engine } from '../../pipeline/engine.js';
import type { PreviousResult, TaskDeclaration, ValueCodec } from '../../pipeline/task.js';

let root: string;
let engines: Engine[];
let decodes: number;
let seen: (PreviousResult | null)[];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mdpipe-previous-'));
  mkdirSync(join(root, 'in'));
  for (const [name, n] of [['a', 1], ['b', 2], ['c', 4]] as const) writeFileSync(join(root, 'in', name), String(n));
  engines = [];
  decodes = 0;
  seen = [];
});
afterEach(async () => {
  for (const engine of engines) await engine.close();
  rmSync(root, { recursive: true, force: true });
});

/** Numbers as 8-byte float64s; counts decodes. */
function numberCodec(id: string): ValueCodec & { id: string } {
  return {
    id,
    encode: (value) => new Uint8Array(new Float64Array([value as number]).buffer),
    decode: (bytes) => {
      decodes++;
      return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 8))[0];
    },
  };
}

interface Options {
  leaves?: string[];
  sumVersion?: string;
  codecId?: string;
  /** The sum reads every upstream value even when patching (catching what `get` throws, if asked). */
  readAll?: 'plain' | 'catching';
}

function definition({ leaves = ['a', 'b', 'c'], sumVersion = '1', codecId = 'f64-1', readAll }: Options = {}): TaskDeclaration[] {
  const leafTasks: TaskDeclaration[] = leaves.map((name) => ({
    id: `leaf:${name}`,
    kind: 'leaf',
    codeVersion: '1',
    params: {},
    files: [{ name: 'n', path: join(root, 'in', name) }],
    deps: [],
    codec: numberCodec(codecId),
    run: (ctx) => ({ value: Number(ctx.files.get('n')!.toString()) }),
  }));
  const sum: TaskDeclaration = {
    id: 'sum:all',
    kind: 'sum',
    codeVersion: sumVersion,
    params: {},
    files: [],
    deps: leafTasks.map((t) => t.id),
    incremental: true,
    run(ctx) {
      seen.push(ctx.previous);
      const prev = ctx.previous;
      let total: number;
      let parts: Record<string, number>;
      if (prev) {
        // Patch: the previous parts, minus removed, with changed ones read again.
        parts = { ...(prev.value as { parts: Record<string, number> }).parts };
        for (const id of prev.removed) delete parts[id];
        for (const id of prev.changed) parts[id] = ctx.upstream.get(id) as number;
        if (readAll === 'plain') for (const id of ctx.upstream.keys()) parts[id] = ctx.upstream.get(id) as number;
        if (readAll === 'catching') {
          try {
            for (const id of ctx.upstream.keys()) parts[id] = ctx.upstream.get(id) as number;
          } catch {
            parts['leaf:a'] = 1000; // a run that swallows the miss must not have its result committed
          }
        }
      } else {
        parts = {};
        for (const [id, value] of ctx.upstream) parts[id] = value as number;
      }
      total = 0;
      for (const id of Object.keys(parts).sort()) total += parts[id];
      return { value: { total, parts }, files: { 'sum.txt': Buffer.from(`${total}\n`) } };
    },
  };
  return [...leafTasks, sum];
}

async function build(options: Options = {}, run: { force?: boolean; targets?: string[] } = {}) {
  const cacheDir = join(root, 'cache');
  const engine = await openEngine({
    definition: { tasks: definition(options), partitioned: [] },
    cacheDir,
    openStore: () => openDefaultStore(cacheDir),
    outDir: join(root, 'out'),
    jobs: 2,
    describeChanges: summarizeChanges,
  });
  engines.push(engine);
  decodes = 0;
  seen = [];
  const result = await engine.run(run);
  expect(result.summary.failed).toBe(0);
  return result;
}

const sumFile = (): string => readFileSync(join(root, 'out', 'sum.txt'), 'utf8');

describe('ctx.previous and lazy upstream', () => {
  it('is null on the first build, which reads every upstream value', async () => {
    await build();
    expect(seen).toEqual([null]);
    expect(decodes).toBe(3);
    expect(sumFile()).toBe('7\n');
  });

  it('after one input changed: the last good value and files, that dependency as changed; one decode', async () => {
    await build();
    writeFileSync(join(root, 'in', 'b'), '20');
    const result = await build();
    expect(result.summary.executed).toBe(2);
    expect(seen).toHaveLength(1);
    const prev = seen[0]!;
    expect(prev.value).toEqual({ total: 7, parts: { 'leaf:a': 1, 'leaf:b': 2, 'leaf:c': 4 } });
    expect([...prev.files]).toEqual([['sum.txt', new Uint8Array(Buffer.from('7\n'))]]);
    expect([...prev.changed]).toEqual(['leaf:b']);
    expect([...prev.removed]).toEqual([]);
    expect(decodes).toBe(1); // only the changed leaf, of three
    // Fetched: the changed leaf's value (ran this run: none from the store) and the previous value; the
    // previous sum.txt is read from the output folder, where it still holds what was published.
    expect(result.stats.blobsRead).toBe(1);
    expect(sumFile()).toBe('25\n');
  });

  it('a previous file edited by hand since it was published comes from the store, as published', async () => {
    await build();
    writeFileSync(join(root, 'out', 'sum.txt'), '70\n');
    writeFileSync(join(root, 'in', 'b'), '20');
    const result = await build();
    expect([...seen[0]!.files]).toEqual([['sum.txt', new Uint8Array(Buffer.from('7\n'))]]);
    expect(result.stats.blobsRead).toBe(2); // the previous value and sum.txt
    expect(sumFile()).toBe('25\n');
  });

  it('with a previous result only the changed dependencies are fetched from the store', async () => {
    await build();
    writeFileSync(join(root, 'in', 'b'), '20');
    await build({}, { targets: ['leaf:b'] }); // leaf:b's new value is in the store, the sum not yet run
    const result = await build();
    expect(result.outcomes.find((o) => o.id === 'sum:all')!.status).toBe('executed');
    // leaf:b's value and the previous value (sum.txt is read from the output folder): not leaf:a's or leaf:c's.
    expect(result.stats.blobsRead).toBe(2);
    expect(sumFile()).toBe('25\n');
  });

  it.each(['plain', 'catching'] as const)('a patching run that reads an unfetched dependency (%s) runs again with all of them', async (readAll) => {
    await build({ readAll });
    writeFileSync(join(root, 'in', 'b'), '20');
    await build({ readAll }, { targets: ['leaf:b'] });
    const result = await build({ readAll });
    expect(seen).toHaveLength(2); // the first run missed a value, the second had them all
    expect(result.outcomes.find((o) => o.id === 'sum:all')!.status).toBe('executed');
    expect(sumFile()).toBe('25\n');
  });

  it('a removed dependency is in `removed`, a new one in `changed`', async () => {
    await build();
    await build({ leaves: ['a', 'b'] });
    expect([...seen[0]!.removed]).toEqual(['leaf:c']);
    expect([...seen[0]!.changed]).toEqual([]);
    expect(sumFile()).toBe('3\n');
    await build({ leaves: ['a', 'b', 'c'] });
    expect([...seen[0]!.changed]).toEqual(['leaf:c']);
    expect(sumFile()).toBe('7\n');
  });

  it('is null under --force and when the code version changed', async () => {
    await build();
    await build({}, { force: true, targets: ['sum:all'] });
    expect(seen).toEqual([null]);
    await build({ sumVersion: '2' });
    expect(seen).toEqual([null]);
    writeFileSync(join(root, 'in', 'a'), '10');
    await build({ sumVersion: '2' });
    expect(seen[0]).not.toBeNull();
  });

  it('the previous result is the last committed one, whatever it holds', async () => {
    await build();
    writeFileSync(join(root, 'in', 'a'), 'not a number'); // NaN: a result like any other
    await build();
    writeFileSync(join(root, 'in', 'a'), '1');
    await build();
    // The previous of this run is the NaN one (the last committed), and the patch heals it.
    expect(seen[0]!.value).toMatchObject({ parts: { 'leaf:a': NaN } });
    expect(sumFile()).toBe('7\n');
  });
});

describe('codec', () => {
  it('is in the key: another codec id re-runs the task, the same one does not', async () => {
    await build();
    expect((await build()).summary.executed).toBe(0);
    const result = await build({ codecId: 'f64-2' });
    expect(result.outcomes.filter((o) => o.status === 'executed').map((o) => o.id).sort()).toEqual(['leaf:a', 'leaf:b', 'leaf:c']);
    expect(result.outcomes.find((o) => o.id === 'leaf:a')!.reason).toContain('code version changed (1+codec:f64-1 → 1+codec:f64-2)');
    // The leaves' outputs are the same bytes, so the sum stays cached (early cutoff).
    expect(result.outcomes.find((o) => o.id === 'sum:all')!.status).toBe('cached');
  });

  it('an encode failure fails the task naming the codec', async () => {
    const cacheDir = join(root, 'cache');
    const engine = await openEngine({
      definition: {
        tasks: [{
          id: 'bad:codec', kind: 'bad', codeVersion: '1', params: {}, files: [], deps: [],
          codec: { id: 'x', encode: () => { throw new Error('nope'); }, decode: () => 0 },
          run: () => ({ value: 1 }),
        }],
        partitioned: [],
      },
      cacheDir,
      openStore: () => openDefaultStore(cacheDir),
      outDir: join(root, 'out'),
    });
    engines.push(engine);
    const result = await engine.run();
    expect(result.outcomes[0].error).toBe('task bad:codec returned an invalid result: the value cannot be encoded by codec x (nope); return plain data, arrays, typed arrays and Maps');
  });
});
