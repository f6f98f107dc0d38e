/**
 * The grid (SEMANTICS.md "Grid"): for each metric a 3-D array [bs][width][data] in the axes' order (C order,
 * so cell (i, j, k) is at (i * |width| + j) * |data| + k), NaN where a configuration is missing. Built from
 * per-checkpoint metrics (`buildGrid`) or read from a published grid `.npy` (`published-grid.ts`).
 */
import { METRIC_NAMES, type MetricName, type Metrics } from './metrics.js';
import { DatasetInputError } from './errors.js';

/** The three knobs' values, in axis order (data: `"10"`, `"09"`, ..., largest first). */
export interface Axes {
  readonly bs: readonly number[];
  readonly width: readonly number[];
  readonly data: readonly string[];
}

/** One configuration's place on the axes. */
export interface ConfigurationKey {
  bs: number;
  width: number;
  data: string;
}

/** A configuration's name, in grid axis order: `bs16-w2-d10` (also its parse task's partition name). */
export function configurationName(c: ConfigurationKey): string {
  return `bs${c.bs}-w${c.width}-d${c.data}`;
}

/** One grid per metric, over `axes`. */
export interface Grid {
  readonly axes: Axes;
  readonly metrics: Readonly<Record<MetricName, Float64Array>>;
}

/** Metrics in the published grid (every metric but L2), in the published file's order. */
export const PUBLISHED_GRID_METRICS = [
  'test_acc', 'test_loss', 'train_acc', 'train_loss', 'hessian_e', 'hessian_t', 'mode_connectivity',
  'mode_connectivity_peak', 'CKA', 'generalization_gap',
] as const satisfies readonly MetricName[];

/** Number of cells: |bs| * |width| * |data|. */
export function gridSize(axes: Axes): number {
  return axes.bs.length * axes.width.length * axes.data.length;
}

/** Offset of cell (i, j, k) = (bs index, width index, data index) in a metric's array. */
export function cellIndex(axes: Axes, i: number, j: number, k: number): number {
  return (i * axes.width.length + j) * axes.data.length + k;
}

/** The (bs, width, data) indices of the cell at offset `at`: `cellIndex`'s inverse. */
export function cellCoordinates(axes: Axes, at: number): [i: number, j: number, k: number] {
  const [nw, nd] = [axes.width.length, axes.data.length];
  return [Math.floor(at / (nd * nw)), Math.floor(at / nd) % nw, at % nd];
}

/** Whether two grids' axes hold the same values in the same order. */
export function sameAxes(a: Axes, b: Axes): boolean {
  const same = <T>(x: readonly T[], y: readonly T[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.bs, b.bs) && same(a.width, b.width) && same(a.data, b.data);
}

/** Throws DatasetInputError if an axis is empty or repeats a value. */
export function checkAxes(axes: Axes): void {
  for (const name of ['bs', 'width', 'data'] as const) {
    const values: readonly (number | string)[] = axes[name];
    if (values.length === 0) throw new DatasetInputError(`axis ${name} is empty`, `give at least one ${name} value`);
    const seen = new Set<number | string>();
    for (const v of values) {
      if (seen.has(v)) throw new DatasetInputError(`axis ${name} lists ${JSON.stringify(v)} twice`, `remove the repeated ${name} value`);
      seen.add(v);
    }
  }
}

/** A grid of the given axes with every cell NaN. */
export function emptyGrid(axes: Axes): Grid {
  checkAxes(axes);
  const n = gridSize(axes);
  const metrics = {} as Record<MetricName, Float64Array>;
  for (const name of METRIC_NAMES) metrics[name] = new Float64Array(n).fill(NaN);
  return { axes, metrics };
}

/** One checkpoint's metrics at its configuration; metrics left out stay NaN. */
export interface GridEntry extends ConfigurationKey {
  metrics: Partial<Metrics>;
}

/**
 * Places per-checkpoint metrics on the axes.
 * @returns the grid, and the entries whose configuration is not on the axes (for the caller to report;
 *   never silently dropped)
 * @throws DatasetInputError if two entries have the same configuration
 */
export function buildGrid(axes: Axes, entries: Iterable<GridEntry>): { grid: Grid; outside: ConfigurationKey[] } {
  const grid = emptyGrid(axes);
  const cellOf = cellLocator(axes);
  const filled = new Uint8Array(gridSize(axes));
  const outside: ConfigurationKey[] = [];
  for (const e of entries) {
    const at = cellOf(e);
    if (at === undefined) {
      outside.push({ bs: e.bs, width: e.width, data: e.data });
      continue;
    }
    if (filled[at]) {
      throw new DatasetInputError(
        `two checkpoints have the same configuration (bs ${e.bs}, width ${e.width}, data "${e.data}")`,
        'each configuration must come from one folder: check the layout template and remove the duplicate',
      );
    }
    filled[at] = 1;
    setCell(grid, at, e.metrics);
  }
  return { grid, outside };
}

/** Sets cell `at` of every metric: the metric's value, NaN for one left out (or for every one if `metrics` is null). */
export function setCell(grid: Grid, at: number, metrics: Partial<Metrics> | null): void {
  for (const name of METRIC_NAMES) grid.metrics[name][at] = metrics?.[name] ?? NaN;
}

/** A lookup from a configuration to its cell's offset; `undefined` when one of its values is not on the axes. */
export function cellLocator(axes: Axes): (c: ConfigurationKey) => number | undefined {
  const bsAt = positions(axes.bs);
  const widthAt = positions(axes.width);
  const dataAt = positions(axes.data);
  return (c) => {
    const i = bsAt.get(c.bs);
    const j = widthAt.get(c.width);
    const k = dataAt.get(c.data);
    return i === undefined || j === undefined || k === undefined ? undefined : cellIndex(axes, i, j, k);
  };
}

function positions<T>(values: readonly T[]): Map<T, number> {
  return new Map(values.map((v, i) => [v, i]));
}
