/**
 * `npm run build --silent && node dist/bench/incremental.js [--reps N] [--quick]`: what patching saves
 * when one checkpoint folder is added to a full-size collection (1,690 configurations). The same tree is
 * built by two pipelines side by side in one process, each with its own cache: the dataset pipeline as
 * declared (grid, rfi, label and export patch from `ctx.previous`) and the same tasks with `incremental`
 * off (they recompute in full). Each repetition adds one folder with content new to both caches, builds
 * both (order alternating), then removes it and lets both catch up (unmeasured). Prints medians of the
 * whole build and of each per-collection task's run function. Nothing is asserted.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDefaultStore } from '../cache/default-store.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { openEngine } from '../pipeline/engine.js';
import type { PipelineDefinition, TaskDeclaration } from '../pipeline/task.js';
import { FULL_AXES, synthesize } from '../synth/index.js';
import { defineDataset } from '../tasks/index.js';
import { median } from './table.js';

const args = process.argv.slice(2);
const at = args.indexOf('--reps');
const REPS = at >= 0 ? Number(args[at + 1]) : 7;
const QUICK = args.includes('--quick');
const AXES = QUICK ? { ...FULL_AXES, data: ['10'] } : FULL_AXES;
const ROOT = join(tmpdir(), `mdpipe-bench-incremental${QUICK ? '-quick' : ''}`);
const RAW = join(ROOT, 'raw');
/** The folder each repetition adds (absent from the base tree). */
const NEW = { bs: [AXES.bs.at(-1)!], width: [AXES.width.at(-1)!], data: [AXES.data.at(-1)!] };
const NEW_FOLDER = join(RAW, `different_knobs_subset_${NEW.data[0]}/bs_${NEW.bs[0]}/normal/ResNet18_w${NEW.width[0]}`);

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

type Variant = 'patch' | 'full';
/** Milliseconds of each task's run function in the last build, by kind. */
let runMs: Record<string, number> = {};

function timed(definition: PipelineDefinition, incremental: boolean): PipelineDefinition {
  const wrap = (task: TaskDeclaration): TaskDeclaration => ({
    ...task,
    incremental: incremental && task.incremental,
    async run(ctx) {
      const start = performance.now();
      const result = await task.run(ctx);
      runMs[task.kind] = (runMs[task.kind] ?? 0) + performance.now() - start;
      return result;
    },
  });
  const { tasks } = definition;
  return {
    partitioned: definition.partitioned,
    tasks: typeof tasks === 'function' ? (d) => tasks(d).map(wrap) : tasks.map(wrap),
  };
}

function configFor(variant: Variant): ResolvedConfig {
  const dir = join(ROOT, variant);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mdpipe.config.json'), JSON.stringify({ collections: { basic: { raw: RAW, axes: AXES } } }));
  return loadConfig({ cwd: dir });
}

async function build(variant: Variant): Promise<{ ms: number; executed: number; run: Record<string, number> }> {
  const config = configFor(variant);
  runMs = {};
  const start = performance.now();
  const engine = await openEngine({
    definition: timed(defineDataset(config), variant === 'patch'),
    cacheDir: config.cacheDir,
    openStore: () => openDefaultStore(config.cacheDir),
    outDir: config.outDir,
    jobs: 2,
  });
  try {
    const { summary } = await engine.run({});
    if (!summary.ok) throw new Error(`the ${variant} build failed`);
    return { ms: performance.now() - start, executed: summary.executed, run: runMs };
  } finally {
    await engine.close();
  }
}

async function main(): Promise<void> {
  rmSync(ROOT, { recursive: true, force: true });
  log(`writing ${AXES.bs.length * AXES.width.length * AXES.data.length - 1} folders under ${RAW}`);
  await synthesize({ out: RAW, collection: 'basic', axes: AXES });
  rmSync(NEW_FOLDER, { recursive: true });
  for (const v of ['patch', 'full'] as const) log(`cold ${v}: ${(await build(v)).ms.toFixed(0)} ms`);
  const samples: Record<Variant, { ms: number[]; run: Record<string, number[]> }> = { patch: { ms: [], run: {} }, full: { ms: [], run: {} } };
  const noop: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    await synthesize({ out: RAW, collection: 'basic', axes: NEW, seed: 1000 + rep });
    const order: Variant[] = rep % 2 === 0 ? ['patch', 'full'] : ['full', 'patch'];
    for (const v of order) {
      const b = await build(v);
      samples[v].ms.push(b.ms);
      for (const [kind, ms] of Object.entries(b.run)) (samples[v].run[kind] ??= []).push(ms);
    }
    noop.push((await build('patch')).ms);
    rmSync(NEW_FOLDER, { recursive: true });
    for (const v of order) await build(v); // catch up, unmeasured
    log(`rep ${rep + 1}/${REPS}: patch ${samples.patch.ms.at(-1)!.toFixed(0)} ms, full ${samples.full.ms.at(-1)!.toFixed(0)} ms`);
  }
  const f = (xs: number[]) => median(xs).toFixed(1);
  const lines = [
    `one new checkpoint in a ${AXES.bs.length * AXES.width.length * AXES.data.length}-configuration collection, medians of ${REPS}, in-process builds:`,
    `  no-op build (reference): ${f(noop)} ms`,
    `  | | whole build | ${['parse', 'grid', 'rfi', 'label', 'export'].join(' | ')} |`,
    ...(['patch', 'full'] as const).map((v) => `  | ${v} | ${f(samples[v].ms)} | ${['parse', 'grid', 'rfi', 'label', 'export'].map((k) => (samples[v].run[k] ? f(samples[v].run[k]) : '-')).join(' | ')} |`),
    `  ratio full / patch, whole build: ${(median(samples.full.ms) / median(samples.patch.ms)).toFixed(2)}; above the no-op: patch +${(median(samples.patch.ms) - median(noop)).toFixed(1)} ms, full +${(median(samples.full.ms) - median(noop)).toFixed(1)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  rmSync(ROOT, { recursive: true, force: true });
}

void main();
