/**
 * The dataset tasks wired into the engine, end to end: what ran (counted from the run summary) and what
 * came out. Synthetic trees need nothing from outside; the reference checks skip where ../shared is absent.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { openDefaultStore } from '../../cache/default-store.js';
import { openEngine } from '../../pipeline/engine.js';
import type { RunSummary } from '../../pipeline/events.js';
import { synthesize } from '../../synth/index.js';
import { defineDataset } from '../../tasks/index.js';
import { compareCsv } from '../dataset/compare-csv.js';
import { REFERENCE, describeIfShared } from '../helpers/shared.js';

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mdpipe-${prefix}-`));
}

function writeConfig(dir: string, config: unknown): ResolvedConfig {
  fs.writeFileSync(path.join(dir, 'mdpipe.config.json'), JSON.stringify(config));
  return loadConfig({ cwd: dir });
}

async function build(config: ResolvedConfig, targets?: string[]): Promise<RunSummary> {
  const engine = await openEngine({ definition: defineDataset(config), cacheDir: config.cacheDir, openStore: () => openDefaultStore(config.cacheDir), outDir: config.outDir, jobs: 2 });
  try {
    return (await engine.run({ targets })).summary;
  } finally {
    await engine.close();
  }
}

const executed = (s: RunSummary) => s.tasks.filter((t) => t.status === 'executed').map((t) => t.id).sort();

const SMALL = { bs: [16, 64, 256], width: [2, 8, 32], data: ['10', '05'] };

describe('dataset pipeline on synthetic trees', () => {
  let dir: string;
  let config: ResolvedConfig;

  beforeAll(async () => {
    dir = tempDir('tasks');
    await synthesize({ out: path.join(dir, 'raw/basic'), collection: 'basic', axes: SMALL });
    await synthesize({ out: path.join(dir, 'raw/noisy'), collection: 'noisy', axes: SMALL });
    config = writeConfig(dir, {
      collections: {
        basic: { raw: 'raw/basic', axes: { ...SMALL, bs: [...SMALL.bs, 128] } },
        noisy: { raw: 'raw/noisy', layout: 'different_knobs_subset_noisy_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics', axes: SMALL },
      },
    });
  });

  it('builds everything cold, then nothing', async () => {
    const cold = await build(config);
    expect(cold.ok).toBe(true);
    expect(cold.executed).toBe(2 * 18 + 2 * 4);
    for (const c of ['basic', 'noisy']) {
      for (const f of ['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json']) {
        expect(fs.existsSync(path.join(config.outDir, c, f))).toBe(true);
      }
    }
    const csv = fs.readFileSync(path.join(config.outDir, 'basic/dataframe.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 24); // bs 128 is configured but has no folders: NaN rows
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'basic/report.json'), 'utf8'));
    expect(report.configurations).toMatchObject({ expected: 24, found: 18 });
    expect(report.configurations.missing).toContain('bs128-w2-d10');

    const again = await build(config);
    expect(again.executed).toBe(0);
    expect(again.cached).toBe(cold.executed);
  });

  it('a new checkpoint folder runs its parse task and its collection downstream only', async () => {
    await build(config);
    await synthesize({ out: path.join(dir, 'raw/basic'), collection: 'basic', axes: { bs: [128], width: [8], data: ['05'] } });
    const s = await build(config);
    expect(executed(s)).toEqual(['export:basic', 'grid:basic', 'label:basic', 'parse:basic/bs128-w8-d05', 'rfi:basic']);
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'basic/report.json'), 'utf8'));
    expect(report.configurations.found).toBe(19);
  });

  it('folders outside the axes are reported, not dropped silently, and change nothing else', async () => {
    await build(config);
    await synthesize({ out: path.join(dir, 'raw/noisy'), collection: 'noisy', axes: { bs: [512], width: [2], data: ['10'] } });
    const s = await build(config);
    // The noisy grid's key includes the outside list (it is in the report), so grid re-runs; rfi re-runs
    // and gives the same output, so label is cut off (cached) and export re-runs for the report only.
    expect(executed(s)).toEqual(['export:noisy', 'grid:noisy', 'rfi:noisy']);
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'noisy/report.json'), 'utf8'));
    expect(report.outsideAxes).toEqual([
      { folder: 'different_knobs_subset_noisy_10/bs_512/normal/ResNet18_w2/metrics', reason: 'bs 512 is not on the configured bs axis' },
    ]);
  });

  it('a removed metric file gives NaN metrics and a report entry, not a failure', async () => {
    await build(config);
    const folder = path.join(dir, 'raw/basic/different_knobs_subset_05/bs_64/normal/ResNet18_w2/metrics');
    fs.rmSync(path.join(folder, 'hessian.pkl'));
    const s = await build(config);
    expect(s.ok).toBe(true);
    // hessian does not enter test_acc: rfi re-runs with the same output, so label is cut off.
    expect(executed(s)).toEqual(['export:basic', 'grid:basic', 'parse:basic/bs64-w2-d05', 'rfi:basic']);
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'basic/report.json'), 'utf8'));
    expect(report.missingFiles).toEqual({ 'hessian.pkl': 1 });
  });

  it('seed counts that differ between files of a folder are noted in the report, folder by folder', async () => {
    await build(config);
    const other = tempDir('three-seeds');
    await synthesize({ out: other, collection: 'basic', axes: { bs: [16], width: [8], data: ['10'] }, seeds: 3 });
    const rel = 'different_knobs_subset_10/bs_16/normal/ResNet18_w8/metrics/hessian.pkl';
    fs.copyFileSync(path.join(other, rel), path.join(dir, 'raw/basic', rel));
    const s = await build(config);
    expect(s.ok).toBe(true);
    expect(executed(s)).toContain('parse:basic/bs16-w8-d10');
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'basic/report.json'), 'utf8'));
    expect(report.checkpointNotes).toEqual([
      { configuration: 'bs16-w8-d10', notes: [expect.stringMatching(/^seed counts differ between files \(.*hessian\.pkl: 3/)] },
    ]);
    expect(report.warnings).toContainEqual(expect.stringMatching(/^1 checkpoint folder has notes/));
    const noisy = JSON.parse(fs.readFileSync(path.join(config.outDir, 'noisy/report.json'), 'utf8'));
    expect(noisy.checkpointNotes).toEqual([]);
  });

  it('discovers axes left out of the configuration', async () => {
    const d = tempDir('discover');
    await synthesize({ out: path.join(d, 'raw'), collection: 'basic', axes: SMALL });
    const cfg = writeConfig(d, { collections: { basic: { raw: 'raw', axes: { width: [2, 8] } } } });
    expect((await build(cfg)).ok).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(cfg.outDir, 'basic/report.json'), 'utf8'));
    expect(report.axes).toEqual({ bs: [16, 64, 256], width: [2, 8], data: ['10', '05'] });
    expect(report.outsideAxes).toHaveLength(6); // width 32
  });

  it('axes that match no folder are a configuration error naming the key', async () => {
    const d = tempDir('nomatch');
    await synthesize({ out: path.join(d, 'raw'), collection: 'basic', axes: SMALL });
    const cfg = writeConfig(d, { collections: { basic: { raw: 'raw', axes: { bs: [17] } } } });
    await expect(build(cfg)).rejects.toThrow(/collections\.basic\.axes: none of the 18 checkpoint folders/);
  });
});

describeIfShared('dataset pipeline on the reference files', () => {
  it('reproduces raw-sample.expected.csv byte for byte from raw-sample/', async () => {
    const dir = tempDir('sample');
    const config = writeConfig(dir, {
      collections: {
        sample: {
          raw: path.join(REFERENCE, 'raw-sample'),
          layout: 'different_knobs_subset_{data}/bs_{bs}/lr_decay/ResNet18_w{width}/metrics',
          axes: { bs: [16, 19, 24, 27, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024], width: [1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128], data: ['10'] },
        },
      },
    });
    const s = await build(config);
    expect(s.executed).toBe(210 + 4);
    const ours = fs.readFileSync(path.join(config.outDir, 'sample/dataframe.csv'), 'utf8');
    const expected = fs.readFileSync(path.join(REFERENCE, 'raw-sample.expected.csv'), 'utf8');
    expect(compareCsv(ours, expected).mismatches).toEqual([]);
    expect(ours).toBe(expected);
    const report = JSON.parse(fs.readFileSync(path.join(config.outDir, 'sample/report.json'), 'utf8'));
    expect(report.missingFiles).toEqual({ 'loss_acc_test.pkl': 28 });
  });

  it('reproduces the published dataframe from the published grid', async () => {
    const dir = tempDir('published');
    const config = writeConfig(dir, { collections: { published: { grid: path.join(REFERENCE, 'published/metric_grid_13_13_10_public.npy') } } });
    const s = await build(config);
    expect(executed(s)).toEqual(['export:published', 'grid:published', 'label:published', 'rfi:published']);
    const ours = fs.readFileSync(path.join(config.outDir, 'published/dataframe.csv'), 'utf8');
    const cmp = compareCsv(ours, fs.readFileSync(path.join(REFERENCE, 'published/dataframe_normal_public.csv'), 'utf8'));
    expect(cmp.rows).toBe(1690);
    expect(cmp.mismatches).toEqual([]);
  });
});
