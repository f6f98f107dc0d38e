/**
 * `grid:C`: the 3-D grid of every metric over the collection's axes, from the collection's parse tasks
 * (raw collections) or from a published grid `.npy` (published collections). Its output also carries
 * the coverage the report needs.
 */
import type { PublishedCollection, RawCollection } from '../config/load.js';
import type { Axes, Grid } from '../dataset/grid.js';
import { METRIC_FILES, METRIC_NAMES, type MetricFile, type MetricName } from '../dataset/metrics.js';
import type { TaskDeclaration } from '../pipeline/task.js';
import { allParses, partitionName, taskId } from './ids.js';
import { lazy } from './lazy.js';

const gridCode = lazy(() => import('../dataset/grid.js'));
const publishedGridCode = lazy(() => import('../dataset/published-grid.js'));
import type { OutsideFolder, ParsedCheckpoint } from './parse.js';

/** 3: report lists sorted by code units, not by the machine's locale. */
export const GRID_CODE_VERSION = '3';

/** How much of the grid the inputs filled, for `report.json`. */
export interface Coverage {
  source: 'raw' | 'published';
  /** Configurations on the axes. */
  expected: number;
  /** Configurations with a checkpoint folder (raw) or with any metric (published). */
  found: number;
  /** Configurations without a folder, by partition name (`bs16-w2-d10`). */
  missingConfigurations: string[];
  /** Per metric file: how many found folders lack it. */
  missingFiles: Partial<Record<MetricFile, number>>;
  /** Per metric: how many cells are NaN. */
  nanCells: Record<MetricName, number>;
  /** Folders found by the layout but outside the configured axes. */
  outsideAxes: OutsideFolder[];
  /** Notes of checkpoint folders (seed counts that differ, NaN CKA entries), by partition name. */
  checkpointNotes: { configuration: string; notes: string[] }[];
}

export interface GridOutput {
  grid: Grid;
  coverage: Coverage;
}

/** Axes of a raw collection: configured ones as given, the others as found (bs, width ascending; data descending). */
export function resolveAxes(configured: RawCollection['axes'], found: readonly ParsedCheckpoint[]): Axes {
  const distinct = <T>(xs: T[]) => [...new Set(xs)];
  return {
    bs: configured.bs ?? distinct(found.map((p) => p.coords.bs)).sort((a, b) => a - b),
    width: configured.width ?? distinct(found.map((p) => p.coords.width)).sort((a, b) => a - b),
    data: configured.data ?? distinct(found.map((p) => p.coords.data)).sort((a, b) => Number(b) - Number(a)),
  };
}

export function rawGridTask(collection: RawCollection, outside: readonly OutsideFolder[]): TaskDeclaration {
  return {
    id: taskId('grid', collection.name),
    kind: 'grid',
    codeVersion: GRID_CODE_VERSION,
    params: {
      axes: {
        bs: collection.axes.bs ?? 'discover',
        width: collection.axes.width ?? 'discover',
        data: collection.axes.data ?? 'discover',
      },
      // Folders outside the axes change the report, so they are part of the key.
      outsideAxes: outside.map((o) => o.folder).sort(),
    },
    files: [],
    deps: [allParses(collection.name)],
    description: `grid of every metric over ${collection.name}'s axes`,
    async run(ctx) {
      const g = await gridCode();
      const parsed = [...ctx.upstream.values()] as ParsedCheckpoint[];
      const axes = resolveAxes(collection.axes, parsed);
      const { grid } = g.buildGrid(
        axes,
        parsed.map((p) => ({ ...p.coords, metrics: p.metrics })),
      );
      const missingFiles: Partial<Record<MetricFile, number>> = {};
      for (const p of parsed) for (const f of p.absent) missingFiles[f] = (missingFiles[f] ?? 0) + 1;
      const present = new Set(parsed.map((p) => partitionName(p.coords)));
      const coverage: Coverage = {
        source: 'raw',
        expected: g.gridSize(axes),
        found: parsed.length,
        missingConfigurations: allConfigurations(axes, g).filter((name) => !present.has(name)),
        missingFiles: Object.fromEntries(METRIC_FILES.filter((f) => missingFiles[f]).map((f) => [f, missingFiles[f]])),
        nanCells: countNaN(grid),
        outsideAxes: [...outside].sort((a, b) => byCodeUnits(a.folder, b.folder)),
        checkpointNotes: parsed
          .filter((p) => p.notes !== undefined)
          .map((p) => ({ configuration: partitionName(p.coords), notes: p.notes! }))
          .sort((a, b) => byCodeUnits(a.configuration, b.configuration)),
      };
      return { value: { grid, coverage } satisfies GridOutput };
    },
  };
}

export function publishedGridTask(collection: PublishedCollection): TaskDeclaration {
  return {
    id: taskId('grid', collection.name),
    kind: 'grid',
    codeVersion: GRID_CODE_VERSION,
    params: {},
    files: [{ name: 'grid.npy', path: collection.grid }],
    deps: [],
    description: `published grid ${collection.grid}`,
    async run(ctx) {
      const g = await gridCode();
      const { readPublishedGrid } = await publishedGridCode();
      const grid = readPublishedGrid(ctx.files.get('grid.npy')!, collection.grid);
      const nanCells = countNaN(grid);
      const { axes } = grid;
      const missing = allConfigurations(axes, g).filter((_, at) => allMetricsNaN(grid, at));
      const coverage: Coverage = {
        source: 'published',
        expected: g.gridSize(axes),
        found: g.gridSize(axes) - missing.length,
        missingConfigurations: missing,
        missingFiles: {},
        nanCells,
        outsideAxes: [],
        checkpointNotes: [],
      };
      return { value: { grid, coverage } satisfies GridOutput };
    },
  };
}

/** Plain string order: the same report on every machine (`localeCompare` follows the locale). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when every published metric of cell `at` is NaN (L2 is never published). */
function allMetricsNaN(grid: Grid, at: number): boolean {
  return METRIC_NAMES.every((m) => m === 'L2' || Number.isNaN(grid.metrics[m][at]));
}

/** Partition names of every cell, in grid order. */
function allConfigurations(axes: Axes, g: Pick<typeof import('../dataset/grid.js'), 'gridSize' | 'cellIndex'>): string[] {
  const { gridSize, cellIndex } = g;
  const names: string[] = new Array(gridSize(axes));
  axes.bs.forEach((bs, i) =>
    axes.width.forEach((width, j) =>
      axes.data.forEach((data, k) => {
        names[cellIndex(axes, i, j, k)] = partitionName({ bs, width, data });
      }),
    ),
  );
  return names;
}

function countNaN(grid: Grid): Record<MetricName, number> {
  const out = {} as Record<MetricName, number>;
  for (const m of METRIC_NAMES) out[m] = grid.metrics[m].reduce((n, v) => (Number.isNaN(v) ? n + 1 : n), 0);
  return out;
}
