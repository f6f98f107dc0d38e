/**
 * What `report.json` says about a collection (docs/SEMANTICS.md "Outputs"): how much of the grid the
 * inputs filled (`Coverage`, made with the grid) and the warnings a person should read (made by the export).
 */
import { countText } from '../util/count-text.js';
import { cellIndex, configurationName, gridSize, type Axes, type Grid } from './grid.js';
import { labelsWithMissingNeighbours, type LabelGrids } from './labels.js';
import { METRIC_FILES, METRIC_NAMES, type MetricFile, type MetricName } from './metrics.js';
import type { OutsideFolder } from './outside-axes.js';

/** Per-cell flags a raw grid keeps (`RawGridOutput.cells`): bit f set = METRIC_FILES[f] absent. */
export const CELL_FOUND = 1 << 7;

/** How much of the grid the inputs filled, for `report.json`. */
export interface Coverage {
  source: 'raw' | 'published';
  /** Configurations on the axes. */
  expected: number;
  /** Configurations with a checkpoint folder (raw) or with any metric (published). */
  found: number;
  /** Configurations without a folder, by partition name (`bs16-w2-d10`), in grid order. */
  missingConfigurations: string[];
  /** Per metric file: how many found folders lack it. */
  missingFiles: Partial<Record<MetricFile, number>>;
  /** Per metric: how many cells are NaN. */
  nanCells: Record<MetricName, number>;
  /** Folders found by the layout but outside the configured axes. */
  outsideAxes: OutsideFolder[];
  /** Notes of checkpoint folders (seed counts that differ, NaN CKA entries), by partition name. */
  checkpointNotes: CheckpointNote[];
}

export interface CheckpointNote {
  configuration: string;
  notes: readonly string[];
}

/**
 * The coverage of a raw grid from its per-cell flags. Every part is a pass over typed arrays of the
 * grid's size (1,690 cells: a few microseconds), so a patched grid recomputes it rather than patching it.
 * @param notes the folders' notes, in any order
 */
export function rawCoverage(grid: Grid, cells: Uint8Array, notes: readonly CheckpointNote[], outside: readonly OutsideFolder[]): Coverage {
  const { axes } = grid;
  const missing: string[] = [];
  const absent = new Array<number>(METRIC_FILES.length).fill(0);
  let found = 0;
  forEachCell(axes, (at, bs, width, data) => {
    const flags = cells[at];
    if (!(flags & CELL_FOUND)) {
      missing.push(configurationName({ bs, width, data }));
      return;
    }
    found++;
    for (let f = 0; f < METRIC_FILES.length; f++) if (flags & (1 << f)) absent[f]++;
  });
  return {
    source: 'raw',
    expected: gridSize(axes),
    found,
    missingConfigurations: missing,
    missingFiles: Object.fromEntries(METRIC_FILES.flatMap((f, i) => (absent[i] > 0 ? [[f, absent[i]]] : []))),
    nanCells: countNaN(grid),
    // Fresh objects and arrays (`map`): a decoded array is serialised in another v8 form than a built one,
    // and the value must be the same bytes whether it was built in full or patched from a decoded one.
    outsideAxes: outside.map((o) => ({ folder: o.folder, reason: o.reason })).sort((a, b) => byCodeUnits(a.folder, b.folder)),
    checkpointNotes: notes
      .map((n) => ({ configuration: n.configuration, notes: n.notes.map(String) }))
      .sort((a, b) => byCodeUnits(a.configuration, b.configuration)),
  };
}

/** The coverage of a published grid: a configuration is missing when every published metric of it is NaN. */
export function publishedCoverage(grid: Grid): Coverage {
  const missing: string[] = [];
  forEachCell(grid.axes, (at, bs, width, data) => {
    if (allMetricsNaN(grid, at)) missing.push(configurationName({ bs, width, data }));
  });
  return {
    source: 'published',
    expected: gridSize(grid.axes),
    found: gridSize(grid.axes) - missing.length,
    missingConfigurations: missing,
    missingFiles: {},
    nanCells: countNaN(grid),
    outsideAxes: [],
    checkpointNotes: [],
  };
}

/** What `report.json` holds: coverage of the axes and what a person should look at. */
export function coverageReport(collection: string, grid: Grid, c: Coverage, labels: LabelGrids) {
  const { axes } = grid;
  const besideMissing = labelsWithMissingNeighbours(grid.metrics.test_acc, axes, labels);
  const warnings: string[] = [];
  if (c.missingConfigurations.length > 0) {
    warnings.push(`${countText(c.missingConfigurations.length)} of ${countText(c.expected)} configurations have no checkpoint folder (their rows are NaN)`);
  }
  for (const [file, n] of Object.entries(c.missingFiles)) {
    warnings.push(`${countText(n)} checkpoint folder${n === 1 ? '' : 's'} lack ${file} (those metrics are NaN)`);
  }
  if (c.outsideAxes.length > 0) {
    warnings.push(`${countText(c.outsideAxes.length)} checkpoint folder${c.outsideAxes.length === 1 ? ' is' : 's are'} outside the configured axes and not in the outputs`);
  }
  if (c.checkpointNotes.length > 0) {
    const n = c.checkpointNotes.length;
    warnings.push(`${n} checkpoint folder${n === 1 ? ' has' : 's have'} notes (seed counts that differ, NaN CKA entries): see checkpointNotes in report.json`);
  }
  const total = Object.values(besideMissing).reduce((a, b) => a + b, 0);
  if (total > 0) {
    const each = Object.entries(besideMissing).map(([name, n]) => `${name} ${n}`).join(', ');
    warnings.push(
      `${total} label${total === 1 ? ' was' : 's were'} computed with missing neighbours (${each}): the room for improvement ` +
        'skips configurations without a test accuracy (SPEC), so these can differ from what complete data gives: see labelsWithMissingNeighbours in report.json',
    );
  }
  return {
    collection,
    source: c.source,
    axes: { bs: [...axes.bs], width: [...axes.width], data: [...axes.data] },
    configurations: { expected: c.expected, found: c.found, missing: c.missingConfigurations },
    missingFiles: c.missingFiles,
    nanCells: c.nanCells,
    outsideAxes: c.outsideAxes,
    checkpointNotes: c.checkpointNotes,
    labelsWithMissingNeighbours: besideMissing,
    warnings,
  };
}

/** Plain string order: the same report on every machine (`localeCompare` follows the locale). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Calls `f` for every cell in grid order with its offset and configuration. */
function forEachCell(axes: Axes, f: (at: number, bs: number, width: number, data: string) => void): void {
  axes.bs.forEach((bs, i) => axes.width.forEach((width, j) => axes.data.forEach((data, k) => f(cellIndex(axes, i, j, k), bs, width, data))));
}

/** True when every published metric of cell `at` is NaN (L2 is never published). */
function allMetricsNaN(grid: Grid, at: number): boolean {
  return METRIC_NAMES.every((m) => m === 'L2' || Number.isNaN(grid.metrics[m][at]));
}

function countNaN(grid: Grid): Record<MetricName, number> {
  const out = {} as Record<MetricName, number>;
  for (const m of METRIC_NAMES) out[m] = grid.metrics[m].reduce((n, v) => (Number.isNaN(v) ? n + 1 : n), 0);
  return out;
}
