/**
 * The engine test rig (after wireit's): a temporary tree of input files and a pipeline definition of
 * small tasks whose run functions count their calls, so a test asserts what ran, not only what came out.
 *
 * Layout under `root`:
 *   raw/<collection>/<partition>/a.txt   a number (required input)
 *   raw/<collection>/<partition>/b.txt   optional input (present in even partitions)
 *   raw/<collection>/skip_*              folders the partition function declines
 * Tasks:
 *   parse:<collection>/<partition>  value {n: Number(a) * scale, b, tags: Map, data: Float64Array}
 *   grid:<collection>               deps parse:<collection>/*; value sorted [id, n] pairs
 *   export:<collection>             deps grid:<collection>; publishes <collection>/table.csv
 *   summary:all                     deps grid:*; value the sum of every n
 *
 * Used in-process by the tests and from a child process by `engine-child.ts`.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDefaultStore } from '../../cache/default-store.js';
import { summarizeChanges } from '../../cli/change-text.js';
import { openEngine, type Engine, type EngineOptions } from '../../pipeline/engine.js';
import type { PipelineDefinition, TaskContext, TaskDeclaration } from '../../pipeline/task.js';

export interface RigBehaviour {
  /** Task ids whose run function throws. */
  failOn?: ReadonlySet<string>;
  /** Task ids whose run function waits until aborted (or forever): lets a test kill or interrupt mid-run. */
  hangOn?: ReadonlySet<string>;
  /** Milliseconds each parse task waits before returning (to spread a run over time). */
  parseDelayMs?: number;
  /** Multiplier applied by parse tasks (a parameter: changing it changes every parse key). */
  scale?: number;
  /** Code version per kind (default `1`). */
  codeVersions?: Partial<Record<string, string>>;
  /** Collections to declare per-collection tasks for (default: those the rig created). */
  collections?: readonly string[];
  /** Called on entry of every run function (after counting). */
  onRun?: (id: string, ctx: TaskContext) => void | Promise<void>;
}

export interface RigLayout {
  /** Collection name → number of partitions. */
  collections: Record<string, number>;
}

export const DEFAULT_LAYOUT: RigLayout = { collections: { basic: 4, noisy: 3 } };

/** An old, fixed mtime for written inputs: outside the racy window, so stat memos are written at once. */
const PAST_SECONDS = Math.floor(Date.now() / 1000) - 3600;

/** Partition folder name of the k-th partition. */
export const partitionName = (k: number): string => `p${k}`;

/** Writes the raw tree under `root`. */
export function writeTree(root: string, layout: RigLayout = DEFAULT_LAYOUT): void {
  for (const [collection, count] of Object.entries(layout.collections)) {
    for (let k = 0; k < count; k++) {
      const dir = join(root, 'raw', collection, partitionName(k));
      mkdirSync(dir, { recursive: true });
      writeInput(join(dir, 'a.txt'), String(k + 1));
      if (k % 2 === 0) writeInput(join(dir, 'b.txt'), `b of ${collection}/${k}`);
    }
    mkdirSync(join(root, 'raw', collection, 'skip_me'), { recursive: true });
  }
}

/** Writes a file and gives it an old mtime (unique per call so every write changes the stat). */
let writes = 0;
export function writeInput(path: string, content: string): void {
  writeFileSync(path, content);
  writes++;
  utimesSync(path, PAST_SECONDS + writes, PAST_SECONDS + writes);
}

/** Call counts per task id, shared by every definition the rig makes. */
export class CallCounter {
  readonly calls = new Map<string, number>();
  count(id: string): void {
    this.calls.set(id, (this.calls.get(id) ?? 0) + 1);
  }
  /** Total calls, optionally of one kind (`parse`) only. */
  total(kind?: string): number {
    let n = 0;
    for (const [id, c] of this.calls) if (kind === undefined || id.startsWith(`${kind}:`)) n += c;
    return n;
  }
  /** Ids called at least once, sorted. */
  ids(): string[] {
    return [...this.calls.keys()].sort();
  }
  of(id: string): number {
    return this.calls.get(id) ?? 0;
  }
  reset(): void {
    this.calls.clear();
  }
}

function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The rig's pipeline definition over the tree at `root`. */
export function rigDefinition(root: string, counter: CallCounter, behaviour: RigBehaviour = {}): PipelineDefinition {
  const raw = join(root, 'raw');
  const code = (kind: string): string => behaviour.codeVersions?.[kind] ?? '1';
  const enter = async (ctx: TaskContext): Promise<void> => {
    counter.count(ctx.id);
    await behaviour.onRun?.(ctx.id, ctx);
    if (behaviour.failOn?.has(ctx.id)) {
      throw Object.assign(new Error(`rig: ${ctx.id} was told to fail`), { file: join(raw, 'told-to-fail') });
    }
    if (behaviour.hangOn?.has(ctx.id)) await waitForAbort(ctx.signal);
  };
  const collections = behaviour.collections ?? (existsSync(raw) ? listDirectories(raw) : []);

  const tasks: TaskDeclaration[] = [];
  for (const collection of collections) {
    tasks.push({
      id: `grid:${collection}`,
      kind: 'grid',
      codeVersion: code('grid'),
      params: { collection },
      files: [],
      deps: [`parse:${collection}/*`],
      description: `collects the parse results of ${collection}`,
      run: async (ctx) => {
        await enter(ctx);
        const rows: [string, number][] = [];
        for (const [id, value] of ctx.upstream) {
          const v = value as { n: number; tags: Map<string, string>; data: Float64Array };
          // Tags rather than instanceof: under jest's VM modules, v8.deserialize builds objects of the main realm.
          const tag = (x: unknown): string => Object.prototype.toString.call(x);
          if (tag(v.tags) !== '[object Map]' || tag(v.data) !== '[object Float64Array]' || !Number.isNaN(v.data[1])) {
            throw new Error('upstream value lost its types');
          }
          rows.push([id, v.n]);
        }
        rows.sort((x, y) => (x[0] < y[0] ? -1 : 1));
        return { value: rows };
      },
    });
    tasks.push({
      id: `export:${collection}`,
      kind: 'export',
      codeVersion: code('export'),
      params: {},
      files: [],
      deps: [`grid:${collection}`],
      run: async (ctx) => {
        await enter(ctx);
        const rows = ctx.upstream.get(`grid:${collection}`) as [string, number][];
        const csv = `id,n\n${rows.map(([id, n]) => `${id},${n}`).join('\n')}\n`;
        return { value: rows.length, files: { [`${collection}/table.csv`]: Buffer.from(csv) } };
      },
    });
  }
  tasks.push({
    id: 'summary:all',
    kind: 'summary',
    codeVersion: code('summary'),
    params: {},
    files: [],
    deps: ['grid:*'],
    run: async (ctx) => {
      await enter(ctx);
      let sum = 0;
      for (const rows of ctx.upstream.values()) for (const [, n] of rows as [string, number][]) sum += n;
      return { value: sum };
    },
  });

  return {
    tasks,
    partitioned: [
      {
        kind: 'parse',
        discover: { cwd: raw, pattern: '*/*', onlyDirectories: true },
        partition: (match) => {
          const [collection, partition] = match.split('/');
          if (partition.startsWith('skip_')) return { skip: 'outside the configured axes' };
          if (behaviour.collections && !behaviour.collections.includes(collection)) return { skip: 'collection not configured' };
          const dir = join(raw, collection, partition);
          return {
            id: `parse:${collection}/${partition}`,
            kind: 'parse',
            codeVersion: code('parse'),
            params: { scale: behaviour.scale ?? 1 },
            files: [
              { name: 'a.txt', path: join(dir, 'a.txt') },
              { name: 'b.txt', path: join(dir, 'b.txt'), optional: true },
            ],
            deps: [],
            run: async (ctx) => {
              await enter(ctx);
              if (behaviour.parseDelayMs) await new Promise((r) => setTimeout(r, behaviour.parseDelayMs));
              const a = ctx.files.get('a.txt')!;
              const b = ctx.files.get('b.txt');
              const n = Number(a.toString('utf8').trim()) * (ctx.params as { scale: number }).scale;
              return {
                value: { n, b: b ? b.toString('utf8') : null, tags: new Map([['id', ctx.id]]), data: new Float64Array([n, NaN]) },
              };
            },
          };
        },
      },
    ],
  };
}

function listDirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** A temporary project: tree, cache and output directories, a call counter, and engine factories. */
export class EngineRig {
  readonly root: string;
  readonly counter = new CallCounter();
  readonly engines: Engine[] = [];

  constructor(layout: RigLayout = DEFAULT_LAYOUT) {
    this.root = mkdtempSync(join(tmpdir(), 'mdpipe-engine-'));
    writeTree(this.root, layout);
  }

  get rawDir(): string {
    return join(this.root, 'raw');
  }
  get cacheDir(): string {
    return join(this.root, 'cache');
  }
  get outDir(): string {
    return join(this.root, 'out');
  }
  input(collection: string, partition: number, file = 'a.txt'): string {
    return join(this.rawDir, collection, partitionName(partition), file);
  }

  definition(behaviour: RigBehaviour = {}): PipelineDefinition {
    return rigDefinition(this.root, this.counter, behaviour);
  }

  /** Opens an engine on the rig (closed by `cleanup`). */
  async engine(behaviour: RigBehaviour = {}, options: Partial<EngineOptions> = {}): Promise<Engine> {
    const engine = await openEngine({
      definition: this.definition(behaviour),
      cacheDir: this.cacheDir,
      openStore: () => openDefaultStore(this.cacheDir),
      outDir: this.outDir,
      jobs: 2,
      toolVersion: 'test',
      // The CLI's wording of reasons, which the engine tests assert.
      describeChanges: summarizeChanges,
      ...options,
    });
    this.engines.push(engine);
    return engine;
  }

  async cleanup(): Promise<void> {
    for (const engine of this.engines) await engine.close().catch(() => {});
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Ids of outcomes with a status, sorted. */
export function idsWith(outcomes: ReadonlyArray<{ id: string; status: string }>, status: string): string[] {
  return outcomes
    .filter((o) => o.status === status)
    .map((o) => o.id)
    .sort();
}
