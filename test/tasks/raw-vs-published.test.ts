/**
 * The two sources of a collection agree at full size: a raw tree of 2 x 1,690 checkpoint folders generated
 * from a grid gives, through parse -> grid, the same dataframe.csv as that grid read through the published
 * path, for both collections. Needs nothing from outside: the grids are made here, as real files would give
 * them (a first synthetic build's grids, which some set of files reproduces exactly).
 */
import fs from 'node:fs';
import os, { availableParallelism } from 'node:os';
import path from 'node:path';
import { NOISY_LAYOUT } from '../../config/defaults.js';
import { loadConfig, type ResolvedConfig } from '../../config/load.js';
import { readGridNpz } from '../../dataset/grid-npz.js';
import type { Grid } from '../../dataset/grid.js';
import { openDefaultStore } from '../../cache/default-store.js';
import { openEngine } from '../../pipeline/engine.js';
import type { RunStats, RunSummary } from '../../pipeline/events.js';
import { FULL_AXES, synthesize } from '../../synth/index.js';
import { defineDataset } from '../../tasks/index.js';
import { writePublishedGridFile } from '../helpers/published-grid-file.js';

const COLLECTIONS = ['basic', 'noisy'] as const;
const FOLDERS = FULL_AXES.bs.length * FULL_AXES.width.length * FULL_AXES.data.length;

async function build(dir: string, collections: Record<string, unknown>): Promise<{ config: ResolvedConfig; summary: RunSummary; stats: RunStats }> {
  fs.writeFileSync(path.join(dir, 'mdpipe.config.json'), JSON.stringify({ collections }));
  const config = loadConfig({ cwd: dir });
  const engine = await openEngine({ definition: defineDataset(config), cacheDir: config.cacheDir, openStore: () => openDefaultStore(config.cacheDir), outDir: config.outDir });
  try {
    const { summary, stats } = await engine.run();
    return { config, summary, stats };
  } finally {
    await engine.close();
  }
}

const rawCollection = (name: string, root: string) => ({ raw: root, axes: FULL_AXES, ...(name === 'noisy' ? { layout: NOISY_LAYOUT } : {}) });

describe('a raw tree generated from a grid, and that grid read as published', () => {
  test('give the same dataframe.csv, byte for byte, for both full-size collections', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdpipe-raw-vs-published-'));
    try {
      // 1. Grids as real files give them: those of a first build over trees from the built-in model.
      for (const c of COLLECTIONS) await synthesize({ out: path.join(dir, 'model', c), collection: c, axes: FULL_AXES });
      const first = await build(dir, Object.fromEntries(COLLECTIONS.map((c) => [c, rawCollection(c, `model/${c}`)])));
      expect(first.summary.ok).toBe(true);
      const grids = new Map<string, Grid>();
      for (const c of COLLECTIONS) {
        const file = path.join(first.config.outDir, c, 'grid.npz');
        grids.set(c, readGridNpz(fs.readFileSync(file), file));
        writePublishedGridFile(grids.get(c)!, path.join(dir, `${c}.npy`));
      }

      // 2. Trees generated from those grids, built from raw, next to the grids read as published.
      for (const c of COLLECTIONS) {
        const made = await synthesize({ out: path.join(dir, 'from-grid', c), collection: c, grid: path.join(dir, `${c}.npy`) });
        expect(made.folders).toBe(FOLDERS);
      }
      fs.rmSync(first.config.outDir, { recursive: true });
      fs.rmSync(first.config.cacheDir, { recursive: true });
      const second = await build(dir, {
        ...Object.fromEntries(COLLECTIONS.map((c) => [c, rawCollection(c, `from-grid/${c}`)])),
        ...Object.fromEntries(COLLECTIONS.map((c) => [`${c}Published`, { grid: `${c}.npy` }])),
      });
      expect(second.summary).toMatchObject({ ok: true, executed: 2 * FOLDERS + 2 * 4 + 2 * 4 });
      // With a second core most parses ran on the offload thread (pipeline/builder/offload.ts): this compares
      // that path too, byte for byte.
      if (availableParallelism() > 1) expect(second.stats.offloaded).toBeGreaterThan(FOLDERS);

      for (const c of COLLECTIONS) {
        const fromRaw = fs.readFileSync(path.join(second.config.outDir, c, 'dataframe.csv'), 'utf8');
        const fromGrid = fs.readFileSync(path.join(second.config.outDir, `${c}Published`, 'dataframe.csv'), 'utf8');
        expect(fromRaw.split('\n')).toHaveLength(1 + FOLDERS + 1); // header, rows, final newline
        // Line by line first, so that a failure names the row rather than dumping 1,690 lines.
        const a = fromRaw.split('\n');
        const b = fromGrid.split('\n');
        expect(a.filter((line, i) => line !== b[i]).slice(0, 3)).toEqual([]);
        expect(fromRaw).toBe(fromGrid);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
