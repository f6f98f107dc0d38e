/**
 * Engine scale benchmark: a dataset-shaped graph (2 collections × 1,690 partitions of 6 metric-sized
 * files = 20,280 inputs, plus grid → rfi → label → export per collection) on a temporary tree.
 *
 * Measures: the engine alone on an in-memory graph and store (graph build, cold, no-op: no file I/O);
 * then on the temporary tree: graph build alone, discovery + graph build, the read + hash floor, dry-run
 * plans, the cold build, the no-op build against a bare `stat` of every input (interleaved), a one-file
 * change, and the two keyv backends for 3,400 record puts and gets (the figures quoted in
 * `cache/sqlite-keyv-adapter.ts`).
 *
 * Run:  node --import ./test/helpers/engine-ts-loader.mjs bench/engine-scale.ts [--partitions 1690] [--jobs N]
 *   (the in-memory figures over a plain Map store come from a child run with --in-memory-only --plain-store)
 *   or: npx tsc -p tsconfig.build.json && node dist/bench/engine-scale.js
 * Prints a table; timings are wall-clock medians where repeated. Nothing here is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyv } from 'keyv';
import { sha256 } from '../cache/digest.js';
import { FileKeyvAdapter } from '../cache/file-keyv-adapter.js';
import { openDefaultStore } from '../cache/default-store.js';
import { KeyvCacheStore } from '../cache/keyv-store.js';
import { RECORD_SCHEMA, type TaskRecord } from '../cache/record.js';
import type { BlobInfo, BlobReadResult, CacheStore, ResultBatch, StatMemo, StoreInfo } from '../cache/store.js';
import type { Digest } from '../cache/digest.js';
import { openEngine } from '../pipeline/engine.js';
import { loadPipeline } from '../pipeline/discover.js';
import { buildTaskGraph } from '../pipeline/task-graph.js';
import type { PipelineDefinition, TaskDeclaration } from '../pipeline/task.js';

const argument = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const PARTITIONS = argument('partitions', 1690);
const JOBS = argument('jobs', availableParallelism());
const COLLECTIONS = ['basic', 'noisy'];
/** Metric files and their typical sizes in the real raw data (bytes). */
const FILES: [string, number][] = [
  ['curve_test.npz', 9106],
  ['CKA_mixup_alpha_16.0.pkl', 1330],
  ['loss_acc_test.pkl', 238],
  ['loss_acc.pkl', 238],
  ['hessian.pkl', 357],
  ['model_dist.pkl', 502],
];

const rows: [string, string][] = [];
const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;
/** Engine cost per task, µs: what `npm run bench:engine` is for (issue 10: aim <= 50 µs). */
const perTask: [string, number][] = [];
const report = (what: string, ms: number, note = ''): void => {
  rows.push([what, `${ms.toFixed(1).padStart(9)} ms${note ? `  ${note}` : ''}`]);
  console.error(`${what}: ${ms.toFixed(1)} ms ${note}`);
};
const time = async <T>(body: () => Promise<T> | T): Promise<[T, number]> => {
  const start = performance.now();
  const value = await body();
  return [value, performance.now() - start];
};

function writeRawTree(root: string): void {
  const past = Date.now() / 1000 - 3600;
  for (const collection of COLLECTIONS) {
    for (let k = 0; k < PARTITIONS; k++) {
      const dir = join(root, collection, `cfg_${k}`, 'metrics');
      mkdirSync(dir, { recursive: true });
      for (const [name, size] of FILES) {
        const path = join(dir, name);
        const bytes = Buffer.alloc(size, k % 251);
        bytes.write(`${collection}/${k}/${name}`);
        writeFileSync(path, bytes);
        utimesSync(path, past, past);
      }
    }
  }
}

function definition(root: string): PipelineDefinition {
  const tasks: TaskDeclaration[] = [];
  const chain = ['grid', 'rfi', 'label', 'export'];
  for (const collection of COLLECTIONS) {
    chain.forEach((kind, k) => {
      tasks.push({
        id: `${kind}:${collection}`,
        kind,
        codeVersion: '1',
        params: { collection },
        files: [],
        deps: [k === 0 ? `parse:${collection}/*` : `${chain[k - 1]}:${collection}`],
        run: (ctx) => {
          if (kind === 'grid') return { value: new Float64Array([...ctx.upstream.values()].map((v) => (v as { n: number }).n)) };
          const previous = [...ctx.upstream.values()][0];
          if (kind === 'export') return { value: 1, files: { [`${collection}/dataframe.csv`]: Buffer.from(String(previous)) } };
          return { value: previous };
        },
      });
    });
  }
  return {
    tasks,
    partitioned: [
      {
        kind: 'parse',
        discover: { cwd: root, pattern: '*/*/metrics', onlyDirectories: true },
        partition: (match) => {
          const [collection, cfg] = match.split('/');
          const dir = join(root, match);
          return {
            id: `parse:${collection}/${cfg}`,
            kind: 'parse',
            codeVersion: '1',
            params: { axes: 'published' },
            files: FILES.map(([name]) => ({ name, path: join(dir, name), optional: true })),
            deps: [],
            run: (ctx) => {
              let n = 0;
              for (const bytes of ctx.files.values()) n += bytes ? bytes[bytes.length - 1] : 0;
              return { value: { n, metrics: new Float64Array(12).fill(n) } };
            },
          };
        },
      },
    ],
  };
}

function sampleRecord(k: number): TaskRecord {
  const files: TaskRecord['files'] = {};
  for (const [name] of FILES) files[name] = { path: `/data/raw/basic/cfg_${k}/metrics/${name}`, digest: 'f'.repeat(64) };
  return {
    schema: RECORD_SCHEMA,
    toolVersion: 'bench',
    id: `parse:basic/cfg_${k}`,
    kind: 'parse',
    codeVersion: '1',
    params: { axes: 'published' },
    files,
    deps: {},
    key: 'k'.repeat(64),
    output: { digest: 'd'.repeat(64), size: 200, files: {} },
    notes: [],
    durationMs: 1,
    finishedAt: new Date().toISOString(),
    usedAt: Date.now(),
  };
}

async function storeFigures(dir: string): Promise<void> {
  const records = Array.from({ length: 3400 }, (_, k) => sampleRecord(k));
  const bytes = JSON.stringify(records[0]).length;
  const backends: [string, () => CacheStore][] = [
    ['SQLite keyv adapter', () => openDefaultStore(join(dir, 'sqlite'))],
    [
      'file-per-key keyv adapter',
      () => new KeyvCacheStore({ description: 'files', keyv: (ns) => new Keyv({ store: new FileKeyvAdapter(join(dir, 'files', ns)), namespace: ns }) }),
    ],
  ];
  for (const [name, open] of backends) {
    const store = open();
    const [, put] = await time(() => store.putRecords(records));
    const gets: number[] = [];
    for (let r = 0; r < 5; r++) gets.push((await time(() => store.getRecords(records.map((x) => x.id))))[1]);
    await store.close();
    report(`${name}: 3,400 record puts (one batch)`, put, `records of ~${bytes} bytes`);
    report(`${name}: 3,400 record gets (one batch)`, gets.sort((a, b) => a - b)[2], 'median of 5');
  }
}

/**
 * A CacheStore over plain Maps, storing what it is given as it is: no serialisation and no keyv, so that a
 * build over it measures the engine's bookkeeping (planning, scheduling, records, commits, the partition
 * index) and not a store's. Records are copied on the way in and out, as a real store's round trip does.
 */
class PlainMapStore implements CacheStore {
  readonly records = new Map<string, TaskRecord>();
  readonly blobs = new Map<string, Uint8Array>();
  readonly sizes = new Map<string, BlobInfo>();
  readonly memos = new Map<string, StatMemo>();
  readonly index = new Map<string, string>();
  async getRecords(ids: readonly string[]) {
    return ids.map((id) => {
      const r = this.records.get(id);
      return r && { ...r };
    });
  }
  async putResults(batch: ResultBatch) {
    for (const b of batch.blobs) {
      this.sizes.set(b.digest, { digest: b.digest, size: b.bytes.byteLength, storedAt: Date.now() });
      this.blobs.set(b.digest, b.bytes);
    }
    await this.putRecords(batch.records);
  }
  async putRecords(records: readonly TaskRecord[]) {
    for (const r of records) this.records.set(r.id, { ...r });
  }
  async deleteRecords(ids: readonly string[]) {
    for (const id of ids) this.records.delete(id);
    this.index.clear();
  }
  async listRecords() {
    return [...this.records.values()];
  }
  async hasBlobs(digests: readonly Digest[]) {
    return digests.map((d) => this.blobs.has(d));
  }
  async getBlobs(digests: readonly Digest[]): Promise<BlobReadResult> {
    const found = new Map<Digest, Buffer>();
    const missing: Digest[] = [];
    for (const d of digests) {
      const b = this.blobs.get(d);
      if (b) found.set(d, Buffer.from(b.buffer, b.byteOffset, b.byteLength));
      else missing.push(d);
    }
    return { found, missing, corrupt: [] };
  }
  async deleteBlobs(digests: readonly Digest[]) {
    for (const d of digests) this.blobs.delete(d), this.sizes.delete(d);
    this.index.clear();
  }
  async listBlobs() {
    return [...this.sizes.values()];
  }
  async getStatMemos(paths: readonly string[]) {
    return paths.map((p) => this.memos.get(p));
  }
  async putStatMemos(entries: ReadonlyArray<readonly [string, StatMemo]>) {
    for (const [p, m] of entries) this.memos.set(p, m);
  }
  async deleteStatMemos(paths: readonly string[]) {
    for (const p of paths) this.memos.delete(p);
  }
  async listStatMemoPaths() {
    return [...this.memos.keys()];
  }
  async getIndex(name: string) {
    return this.index.get(name);
  }
  async putIndex(name: string, text: string) {
    this.index.set(name, text);
  }
  async info(): Promise<StoreInfo> {
    return { records: this.records.size, blobs: this.blobs.size, bytes: [...this.sizes.values()].reduce((n, b) => n + b.size, 0) };
  }
  async clear() {
    for (const m of [this.records, this.blobs, this.sizes, this.memos, this.index]) m.clear();
  }
  async compact() {}
  async close() {}
}

/**
 * The engine alone: the same graph shape declared in memory (no input files), first over keyv's in-memory
 * Map store (keyv's serialisation included), then over `PlainMapStore` (no store cost at all), each in a
 * process of its own so that both builds start with the code as cold as a CLI run's. The figures are graph
 * build, planning, scheduling and committing, with no file or database I/O.
 */
async function inMemoryFigures(): Promise<void> {
  const tasks: TaskDeclaration[] = [];
  for (const collection of COLLECTIONS) {
    for (let k = 0; k < PARTITIONS; k++) {
      tasks.push({
        id: `parse:${collection}/cfg_${k}`,
        kind: 'parse',
        codeVersion: '1',
        params: { k },
        files: [],
        deps: [],
        run: () => ({ value: { n: k } }),
      });
    }
    tasks.push({ id: `grid:${collection}`, kind: 'grid', codeVersion: '1', params: {}, files: [], deps: [`parse:${collection}/*`], run: () => ({ value: 1 }) });
  }
  const plain = process.argv.includes('--plain-store');
  const maps = new Map<string, Map<string, unknown>>();
  const store: CacheStore = plain
    ? new PlainMapStore()
    : new KeyvCacheStore({
        description: 'map',
        keyv: (ns) => {
          if (!maps.has(ns)) maps.set(ns, new Map());
          // Plain JSON (as the default SQLite store uses): keyv's default reviver would dominate the figure.
          return new Keyv({ store: maps.get(ns)!, namespace: ns, serialize: JSON.stringify, deserialize: JSON.parse });
        },
      });
  const name = plain ? 'in memory, plain Map store (no serialisation)' : 'in memory, keyv Map store';
  const root = mkdtempSync(join(tmpdir(), 'mdpipe-bench-mem-'));
  try {
    const [engine, openMs] = await time(() =>
      openEngine({ definition: { tasks, partitioned: [] }, cacheDir: join(root, 'cache'), outDir: join(root, 'out'), store, jobs: JOBS }),
    );
    report(`${name}: open engine (graph of ${tasks.length} tasks)`, openMs);
    const memCpu = process.cpuUsage();
    const [cold, coldMs] = await time(() => engine.run());
    const memCpuMs = cpuMs(process.cpuUsage(memCpu));
    report(`${name}: cold build`, coldMs, `cpu ${memCpuMs.toFixed(0)} ms; ${cold.summary.executed} executed`);
    // Run functions here are trivial and inputs are absent: this is the engine's own cost per task (with
    // the store's, unless plain). CPU time as well as wall time: on a shared machine the wall figure mostly
    // measures the neighbours.
    perTask.push([`engine's own cost per partition task, ${name}, wall (cold build / tasks)`, (coldMs * 1000) / cold.summary.executed]);
    perTask.push([`engine's own cost per partition task, ${name}, cpu (process cpu / tasks)`, (memCpuMs * 1000) / cold.summary.executed]);
    const noops: number[] = [];
    for (let r = 0; r < 5; r++) noops.push((await time(() => engine.run()))[1]);
    report(`${name}: no-op build (plan + schedule + lock)`, noops.sort((a, b) => a - b)[2], 'median of 5');
    await engine.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The plain-store figures, from a process of its own (see `inMemoryFigures`): its rows and per-task lines. */
function plainStoreFigures(): void {
  const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--in-memory-only', '--plain-store', '--partitions', String(PARTITIONS), '--jobs', String(JOBS)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`the plain-store run failed:\n${child.stderr}`);
  const out = JSON.parse(child.stdout) as { rows: [string, string][]; perTask: [string, number][] };
  rows.push(...out.rows);
  perTask.push(...out.perTask);
}

async function main(): Promise<void> {
  await inMemoryFigures();
  if (process.argv.includes('--in-memory-only')) {
    process.stdout.write(JSON.stringify({ rows, perTask }));
    return;
  }
  plainStoreFigures();
  const root = mkdtempSync(join(tmpdir(), 'mdpipe-bench-'));
  try {
    const raw = join(root, 'raw');
    const [, writeMs] = await time(() => writeRawTree(raw));
    console.error(`wrote ${COLLECTIONS.length * PARTITIONS * FILES.length} files in ${writeMs.toFixed(0)} ms under ${root}`);
    const def = definition(raw);

    // Graph build alone: declarations in memory, no file system.
    const declarations = (await loadPipeline(def)).graph.tasks;
    const partitionIds = new Set(declarations.filter((t) => t.kind === 'parse').map((t) => t.id));
    const builds: number[] = [];
    for (let r = 0; r < 5; r++) builds.push((await time(() => buildTaskGraph(declarations, partitionIds)))[1]);
    report(`graph build: ${declarations.length} tasks (validate, expand globs, cycle check, topo order)`, builds.sort((a, b) => a - b)[2], 'median of 5');
    const [, discoverMs] = await time(() => loadPipeline(def));
    report('discovery (fast-glob) + graph build', discoverMs);

    const engine = await openEngine({ definition: def, cacheDir: join(root, 'cache'), openStore: () => openDefaultStore(join(root, 'cache')), outDir: join(root, 'out'), jobs: JOBS });
    const paths = engine.graph.tasks.flatMap((t) => t.files.map((f) => f.path));
    const [, ioMs] = await time(() => {
      for (const path of paths) sha256(readFileSync(path));
    });
    report(`floor: read + sha256 of the ${paths.length} inputs, no engine`, ioMs);
    const [plan, planMs] = await time(() => engine.dryRun());
    report('dry-run plan, cold cache', planMs, `${plan.run} would run`);
    const coldCpu = process.cpuUsage();
    const [cold, coldMs] = await time(() => engine.run());
    const cpu = process.cpuUsage(coldCpu);
    report(
      `cold build (jobs ${JOBS})`,
      coldMs,
      `cpu ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; ${cold.summary.executed} executed, ${cold.stats.commits} commit batches, ${cold.stats.filesHashed} files hashed`,
    );
    // No-op runs and bare stats interleaved, so both see the same machine load.
    await engine.run();
    const noops: number[] = [];
    const stats: number[] = [];
    let last = cold;
    for (let r = 0; r < 7; r++) {
      const [result, ms] = await time(() => engine.run());
      noops.push(ms);
      last = result;
      stats.push(
        (
          await time(() => {
            for (const path of paths) statSync(path, { bigint: true, throwIfNoEntry: false });
          })
        )[1],
      );
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    report(
      'no-op build (lock + plan + schedule, SQLite)',
      median(noops),
      `median of 7; ${last.summary.cached} cached, ${last.stats.filesHashed} hashed, ${last.stats.blobsRead} blobs read, ${last.stats.filesStatted} statted`,
    );
    report(`bare stat of the ${paths.length} inputs (interleaved)`, median(stats), `median of 7; no-op / stat = ${(median(noops) / median(stats)).toFixed(1)}`);
    const [noopPlan, noopPlanMs] = await time(() => engine.dryRun());
    report('dry-run plan, warm cache', noopPlanMs, `${noopPlan.fresh} fresh`);

    const changed = join(raw, 'basic', 'cfg_7', 'metrics', 'hessian.pkl');
    writeFileSync(changed, Buffer.alloc(357, 9));
    const [one, oneMs] = await time(() => engine.run());
    report('one input changed', oneMs, `${one.summary.executed} executed (the partition, then early cutoff or its chain)`);
    await engine.close();
    perTask.push([
      `engine's own cost per partition task, SQLite, wall (cold build - read+hash floor) / ${cold.summary.executed} tasks`,
      ((coldMs - ioMs) * 1000) / cold.summary.executed,
    ]);
    perTask.push([`engine's own cost per partition task, SQLite, cpu (cold build cpu - read+hash floor) / ${cold.summary.executed} tasks`, ((cpuMs(cpu) - ioMs) * 1000) / cold.summary.executed]);

    await storeFigures(join(root, 'stores'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([what]) => what.length));
  console.log(`\nmdpipe engine-scale (${COLLECTIONS.length} × ${PARTITIONS} partitions, Node ${process.version}, ${availableParallelism()} cores)`);
  for (const [what, figure] of rows) console.log(`${what.padEnd(width)}  ${figure}`);
  for (const [what, us] of perTask) console.log(`${what}: ${us.toFixed(0)} µs (target <= 50 µs)`);
}

await main();
