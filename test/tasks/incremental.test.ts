/**
 * The dataset pipeline built incrementally through the engine: after random additions, removals and edits
 * of checkpoint folders, only the changed folders' parse tasks run, the collection's grid, rfi, label and
 * export patch from `ctx.previous`, and every output file equals a clean build of the final tree in a
 * fresh cache, byte for byte. One collection has configured axes (every change a patch), the other
 * discovered ones (axis values come and go: the grid falls back to a full build then).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDefaultStore } from '../../cache/default-store.js';
import { renderRunSummary } from '../../cli/run-summary.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { openEngine } from '../../pipeline/engine.js';
import type { RunResult } from '../../pipeline/events.js';
import { patchDictionaryNpy } from '../../dataset/dictionary-npy.js';
import { readGridNpz } from '../../dataset/grid-npz.js';
import { patchLabels, type LabelOutput } from '../../dataset/labels.js';
import type { GridOutput } from '../../dataset/raw-grid.js';
import { patchRfi, type RfiOutput } from '../../dataset/rfi.js';
import { patchTextExports } from '../../dataset/text-exports.js';
import type { PipelineDefinition, PreviousResult, TaskDeclaration } from '../../pipeline/task.js';
import { synthesize } from '../../synth/index.js';
import { defineDataset } from '../../tasks/index.js';
import { CallCounter } from '../helpers/engine-rig.js';
import { prng } from '../helpers/prng.js';

const BASIC = { bs: [16, 32, 64, 128], width: [2, 4, 8], data: ['10', '05'] };
const NOISY = { bs: [16, 32], width: [2, 4], data: ['10'] };
const LAYOUT = {
  basic: (c: Cell) => `different_knobs_subset_${c.data}/bs_${c.bs}/normal/ResNet18_w${c.width}/metrics`,
  noisy: (c: Cell) => `different_knobs_subset_noisy_${c.data}/bs_${c.bs}/normal/ResNet18_w${c.width}/metrics`,
};
type Collection = keyof typeof LAYOUT;
interface Cell {
  bs: number;
  width: number;
  data: string;
}
const cellsOf = (axes: typeof BASIC): Cell[] => axes.bs.flatMap((bs) => axes.width.flatMap((width) => axes.data.map((data) => ({ bs, width, data }))));
const parseIdOf = (collection: string, c: Cell) => `parse:${collection}/bs${c.bs}-w${c.width}-d${c.data}`;

/** What each run function saw: calls (the rig's counter), and per task whether it had a previous result and how many upstream values it decoded. */
interface Seen {
  counter: CallCounter;
  previous: Map<string, boolean>;
  decodes: Map<string, number>;
  /** Per task, whether its patch function accepts the `ctx.previous` the engine gave (null: it would recompute in full). */
  patchable?: Map<string, boolean>;
}

/** Whether the dataset's patch function of task `id` accepts `previous` as the engine hands it over (decoded from the store). */
function patchApplies(id: string, previous: PreviousResult, upstream: ReadonlyMap<string, unknown>): boolean {
  const [kind, collection] = id.split(':');
  const grid = () => upstream.get(`grid:${collection}`) as GridOutput;
  if (kind === 'rfi') return patchRfi(previous.value as RfiOutput, grid().grid.metrics.test_acc, grid().grid.axes) !== null;
  if (kind === 'label') return patchLabels(previous.value as LabelOutput, (upstream.get(`rfi:${collection}`) as RfiOutput).grids) !== null;
  if (kind === 'export') {
    const file = (f: string) => previous.files.get(`${collection}/${f}`)!;
    const inputs = { grid: grid().grid, rfi: (upstream.get(`rfi:${collection}`) as RfiOutput).grids, labels: (upstream.get(`label:${collection}`) as LabelOutput).labels, dictionary: {} };
    const previousGrid = readGridNpz(file('grid.npz'), 'grid.npz');
    return (
      patchTextExports({ grid: previousGrid, csv: file('dataframe.csv'), json: file('dictionary.json') }, inputs) !== null &&
      patchDictionaryNpy({ grid: previousGrid, npy: file('dictionary.npy') }, inputs.grid, inputs.dictionary) !== null
    );
  }
  return true; // grid: checked by what it decodes
}

function observed(definition: PipelineDefinition, seen: Seen): PipelineDefinition {
  const wrap = (task: TaskDeclaration): TaskDeclaration => ({
    ...task,
    async run(ctx) {
      seen.counter.count(ctx.id);
      seen.previous.set(ctx.id, ctx.previous !== null);
      if (ctx.previous !== null && seen.patchable) seen.patchable.set(ctx.id, patchApplies(ctx.id, ctx.previous, ctx.upstream));
      const result = await task.run(ctx);
      seen.decodes.set(ctx.id, (ctx.upstream as { decodes?: number }).decodes ?? -1);
      return result;
    },
  });
  const { tasks } = definition;
  return {
    partitioned: definition.partitioned.map((kind) => ({
      ...kind,
      partition: (match: string) => {
        const t = kind.partition(match);
        return 'skip' in t ? t : wrap(t);
      },
    })),
    tasks: typeof tasks === 'function' ? (d) => tasks(d).map(wrap) : tasks.map(wrap),
  };
}

async function build(config: ResolvedConfig, seen?: Seen): Promise<RunResult> {
  const definition = seen ? observed(defineDataset(config), seen) : defineDataset(config);
  const engine = await openEngine({ definition, cacheDir: config.cacheDir, openStore: () => openDefaultStore(config.cacheDir), outDir: config.outDir, jobs: 2 });
  try {
    const result = await engine.run({});
    expect(result.summary.ok).toBe(true);
    return result;
  } finally {
    await engine.close();
  }
}

function configIn(dir: string, raw: string): ResolvedConfig {
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    collections: {
      basic: { raw: path.join(raw, 'basic'), axes: BASIC },
      noisy: { raw: path.join(raw, 'noisy'), layout: 'different_knobs_subset_noisy_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics' },
    },
  };
  fs.writeFileSync(path.join(dir, 'mdpipe.config.json'), JSON.stringify(config));
  return loadConfig({ cwd: dir });
}

/** Every output file, by path relative to the output directory. */
function outputs(outDir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const c of fs.readdirSync(outDir).sort()) {
    for (const f of fs.readdirSync(path.join(outDir, c)).sort()) files.set(`${c}/${f}`, fs.readFileSync(path.join(outDir, c, f)));
  }
  return files;
}

describe('incremental builds through the engine', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdpipe-incr-'));
  const raw = path.join(dir, 'raw');
  const present: Record<Collection, Map<string, Cell>> = { basic: new Map(), noisy: new Map() };
  let seed = 100; // every addition or edit writes bytes no folder had before, so its parse must run
  const write = async (collection: Collection, c: Cell) => {
    await synthesize({ out: path.join(raw, collection), collection, axes: { bs: [c.bs], width: [c.width], data: [c.data] }, seeds: 2, seed: seed++ });
    present[collection].set(parseIdOf(collection, c), c);
  };
  let config: ResolvedConfig;

  beforeAll(async () => {
    const rand = prng(11);
    for (const [collection, axes] of [['basic', BASIC], ['noisy', NOISY]] as const) {
      for (const c of cellsOf(axes)) if (rand() < 0.75 || collection === 'noisy') await write(collection, c);
    }
    config = configIn(path.join(dir, 'project'), raw);
    await build(config);
  }, 60_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('random additions, removals and edits: only the changed parses run, the rest patches, outputs equal a clean build', async () => {
    const rand = prng(12);
    for (let round = 0; round < 6; round++) {
      const touched = new Set<string>();
      const batch = 1 + Math.floor(rand() * 3);
      for (let b = 0; b < batch; b++) {
        const collection: Collection = rand() < 0.7 ? 'basic' : 'noisy';
        const all = cellsOf(collection === 'basic' ? BASIC : NOISY);
        const c = all[Math.floor(rand() * all.length)];
        const id = parseIdOf(collection, c);
        const folder = path.join(raw, collection, LAYOUT[collection](c));
        const op = rand();
        if (!present[collection].has(id)) {
          await write(collection, c); // an addition
          touched.add(id);
        } else if (op < 0.35 && present[collection].size > 1) {
          fs.rmSync(path.dirname(folder), { recursive: true }); // a removal (the ResNet18_w folder)
          present[collection].delete(id);
          touched.delete(id);
        } else if (op < 0.6 && fs.existsSync(path.join(folder, 'loss_acc_test.pkl'))) {
          fs.rmSync(path.join(folder, 'loss_acc_test.pkl')); // an edit that makes test_acc NaN
          touched.add(id);
        } else {
          await write(collection, c); // an edit: new bytes in every file
          touched.add(id);
        }
      }
      const seen: Seen = { counter: new CallCounter(), previous: new Map(), decodes: new Map(), patchable: new Map() };
      await build(config, seen);
      const step = `round ${round}`;
      const parses = seen.counter.ids().filter((id) => id.startsWith('parse:'));
      expect({ step, parses }).toEqual({ step, parses: [...touched].sort() });
      for (const [id, hadPrevious] of seen.previous) {
        if (!id.startsWith('parse:')) expect({ step, id, hadPrevious }).toEqual({ step, id, hadPrevious: true });
      }
      // On the configured axes, rfi, label and export patch from what the engine gave them (the noisy
      // collection's axes come and go, where they compute in full).
      for (const [id, applies] of seen.patchable!) if (id.endsWith(':basic')) expect({ step, id, applies }).toEqual({ step, id, applies: true });
      // The configured-axes grid patches: it decodes the changed parse outputs only, not all of them.
      if (seen.counter.of('grid:basic') > 0) {
        const changed = parses.filter((id) => id.startsWith('parse:basic/')).length;
        expect({ step, decodes: seen.decodes.get('grid:basic') }).toEqual({ step, decodes: changed });
      }

      const clean = configIn(path.join(dir, `clean-${round}`), raw);
      await build(clean);
      const ours = outputs(config.outDir);
      const theirs = outputs(clean.outDir);
      expect([...ours.keys()]).toEqual([...theirs.keys()]);
      for (const [file, bytes] of theirs) expect({ step, file, same: ours.get(file)!.equals(bytes) }).toEqual({ step, file, same: true });
      fs.rmSync(path.join(dir, `clean-${round}`), { recursive: true });
    }
  }, 120_000);

  it('counts the labels computed with missing neighbours, in report.json and the run summary', async () => {
    const result = await build(config);
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'basic/report.json'), 'utf8'));
    const counts = report.labelsWithMissingNeighbours as Record<string, number>;
    expect(Object.keys(counts)).toEqual(['bs_failure', 'width_vs_batch', 'data_vs_batch']);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0); // basic has missing folders on every bs line it was given
    const warning = report.warnings.find((w: string) => w.includes('computed with missing neighbours'));
    expect(warning).toMatch(new RegExp(`^${total} labels were computed with missing neighbours \\(bs_failure ${counts.bs_failure}, `));
    expect(renderRunSummary(result, config)).toContain(`  basic: ${warning}`);
  });
});
