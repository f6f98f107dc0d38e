/**
 * The synthetic-data generator: writes a collection's raw tree (one folder of six metric files per
 * configuration, in the real file formats) from the built-in model or from a published grid. The demo,
 * the tests and the benchmark run on what it writes; the CLI exposes it as `mdpipe synth`.
 *
 * Deterministic: a folder's bytes depend only on (seed, collection, its coordinates, the options), not
 * on the other folders, the order of writing or the concurrency.
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_LAYOUT, NOISY_LAYOUT } from '../config/defaults.js';
import { parseLayout, type CheckpointCoords } from '../config/layout.js';
import { cellIndex, type Axes, type Grid } from '../dataset/grid.js';
import { METRIC_FILES } from '../dataset/metrics.js';
import { readPublishedGrid } from '../dataset/published-grid.js';
import type { WritePickleOptions } from '../formats/index.js';
import { resolveAxes, type AxesOption } from './axes.js';
import { checkpointFiles, type FittedMetric } from './checkpoint-files.js';
import { SynthError } from './errors.js';
import { modelCell, type CellValues, type CollectionName } from './model.js';
import { rngFromKey } from './prng.js';
import { writeTree, type FolderJob } from './write-tree.js';

export { SMALL_AXES, FULL_AXES, type AxesOption } from './axes.js';
export { SynthError } from './errors.js';
export type { CollectionName } from './model.js';

export interface SynthOptions {
  /** The collection's raw root: folders are written at `out/<layout.format(coords)>`. */
  out: string;
  /** Which collection: its default layout, and (without a grid) the model's label noise. */
  collection: CollectionName;
  /** Which configurations (default `full`: the published axes, or the grid's). */
  axes?: AxesOption;
  /**
   * A published grid to reproduce: the path of a grid `.npy` (a pickled dict, as
   * `metric_grid_13_13_10_public.npy`), or a Grid already in memory. Every written folder then gives
   * back its grid cell through the extractor. Without it the built-in model (`synth/model.ts`) is used.
   */
  grid?: string | Grid;
  /** Seeds (runs) per configuration (default 5, as the published collections). */
  seeds?: number;
  /** PRNG seed (default 0): same seed, same bytes. */
  seed?: number;
  /** Folder layout (default: the collection's, from config/defaults.ts). */
  layout?: string;
  /** Pickle protocol and numpy module spelling (default: protocol 3 and `numpy.core`, as the real files). */
  pickle?: WritePickleOptions;
  /** Stops between folders (what was written stays, each file complete). */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface SynthResult {
  /** Checkpoint folders written (a grid cell that is NaN in every metric gets none: it is missing). */
  folders: number;
  files: number;
  bytes: number;
  ms: number;
  /** From a grid: how closely the written files reproduce it (every fitted metric of every cell). */
  fit?: FitReport;
  /** Things a person should know (a grid whose generalization_gap is not train_acc - test_acc). */
  warnings: string[];
}

export interface FitReport {
  /** Metric values fitted (cells x metrics, NaN cells excluded). */
  values: number;
  /** Of those, reproduced to the bit. */
  exact: number;
  /** Largest |achieved - target| / |target| (absolute where the target is 0). */
  maxRelError: number;
  /** The metric and cell of that largest error. */
  worst?: string;
}

const FITTED: readonly FittedMetric[] = [
  'test_acc', 'test_loss', 'train_acc', 'train_loss', 'hessian_e', 'hessian_t',
  'mode_connectivity', 'mode_connectivity_peak', 'CKA',
];

/**
 * Writes a synthetic raw tree.
 * @returns what was written and how long it took
 * @throws SynthError for options that cannot be honoured (axes not on the grid, an unreadable grid, an
 *   unwritable output folder); the grid reader's errors for a grid file that is not one
 */
export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const started = performance.now();
  const seeds = opts.seeds ?? 5;
  if (!Number.isSafeInteger(seeds) || seeds < 1) throw new SynthError(`seeds must be a positive integer, not ${seeds}`, 'give --seeds 5 (the published collections have 5)');
  const seed = opts.seed ?? 0;
  const layoutTemplate = opts.layout ?? (opts.collection === 'noisy' ? NOISY_LAYOUT : DEFAULT_LAYOUT);
  const layout = parseLayout(layoutTemplate, 'synth.layout');
  const source = opts.grid === undefined ? undefined : await loadGrid(opts.grid);
  const axes = resolveAxes(opts.axes, source?.grid.axes, source?.file);
  const warnings: string[] = source ? checkGap(source.grid, axes, source.file) : [];
  const fit: FitReport = { values: 0, exact: 0, maxRelError: 0 };

  const jobs: FolderJob[] = [];
  for (const data of axes.data) {
    for (const bs of axes.bs) {
      for (const width of axes.width) {
        const coords: CheckpointCoords = { bs, width, data };
        jobs.push({
          rel: layout.format(coords),
          build: () => {
            const rng = rngFromKey(`mdpipe-synth|${seed}|${opts.collection}|${bs}|${width}|${data}`);
            const model = modelCell(coords, opts.collection, rng.fork('model'));
            const values = source ? gridCell(source.grid, coords, model.L2) : model;
            const made = checkpointFiles({ values, width, data, seeds, exact: source !== undefined }, rng.fork('files'), opts.pickle);
            if (source) tally(fit, values, made.achieved, coords);
            return made.files;
          },
        });
      }
    }
  }
  const written = await writeTree(opts.out, jobs, { owned: METRIC_FILES, onProgress: opts.onProgress, signal: opts.signal });
  return {
    folders: written.folders,
    files: written.files,
    bytes: written.bytes,
    ms: performance.now() - started,
    ...(source ? { fit } : {}),
    warnings,
  };
}

async function loadGrid(grid: string | Grid): Promise<{ grid: Grid; file: string }> {
  if (typeof grid !== 'string') return { grid, file: 'the grid' };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(grid);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SynthError(
      code === 'ENOENT' ? 'no such file' : `cannot read the grid (${code ?? (e as Error).message})`,
      'give the path of a published grid .npy, e.g. metric_grid_13_13_10_public.npy',
      grid,
    );
  }
  return { grid: readPublishedGrid(bytes, grid), file: grid };
}

/**
 * A grid cell's values. L2 is in no published grid: where the grid has none it comes from the model,
 * except in a cell whose every metric is NaN (a missing configuration, which gets no folder at all).
 */
function gridCell(grid: Grid, c: CheckpointCoords, modelL2: number): CellValues {
  const at = cellIndex(grid.axes, grid.axes.bs.indexOf(c.bs), grid.axes.width.indexOf(c.width), grid.axes.data.indexOf(c.data));
  const m = grid.metrics;
  const values: CellValues = {
    test_acc: m.test_acc[at], test_loss: m.test_loss[at], train_acc: m.train_acc[at], train_loss: m.train_loss[at],
    hessian_e: m.hessian_e[at], hessian_t: m.hessian_t[at], mode_connectivity: m.mode_connectivity[at],
    mode_connectivity_peak: m.mode_connectivity_peak[at], CKA: m.CKA[at], L2: m.L2[at],
  };
  const missing = Object.values(values).every(Number.isNaN);
  if (Number.isNaN(values.L2) && !missing) values.L2 = modelL2;
  return values;
}

function tally(fit: FitReport, target: CellValues, achieved: Partial<Record<FittedMetric, number>>, c: CheckpointCoords): void {
  for (const metric of FITTED) {
    const t = target[metric];
    const a = achieved[metric];
    if (Number.isNaN(t) || a === undefined) continue;
    fit.values++;
    if (Object.is(a, t)) fit.exact++;
    const err = t === 0 ? Math.abs(a - t) : Math.abs((a - t) / t);
    if (!(err <= fit.maxRelError)) {
      fit.maxRelError = Number.isNaN(err) ? Infinity : err;
      fit.worst = `${metric} at bs ${c.bs}, width ${c.width}, data "${c.data}": ${a} for ${t}`;
    }
  }
}

/** The written tree gives generalization_gap = train_acc - test_acc: say where the grid's differs. */
function checkGap(grid: Grid, axes: Axes, file: string): string[] {
  const m = grid.metrics;
  const off: string[] = [];
  for (const bs of axes.bs) {
    for (const width of axes.width) {
      for (const data of axes.data) {
        const at = cellIndex(grid.axes, grid.axes.bs.indexOf(bs), grid.axes.width.indexOf(width), grid.axes.data.indexOf(data));
        const gap = m.generalization_gap[at];
        const derived = m.train_acc[at] - m.test_acc[at];
        if (Number.isNaN(gap) && Number.isNaN(derived)) continue;
        if (!(Math.abs(gap - derived) <= 1e-9 * Math.max(Math.abs(gap), 1e-300))) off.push(`bs ${bs}, width ${width}, data "${data}": ${gap} vs ${derived}`);
      }
    }
  }
  if (off.length === 0) return [];
  return [
    `${file}: generalization_gap differs from train_acc - test_acc (by more than 1e-9 relative) in ${off.length} cell(s), ` +
      `e.g. ${off.slice(0, 3).join('; ')}; the written tree gives train_acc - test_acc there`,
  ];
}
