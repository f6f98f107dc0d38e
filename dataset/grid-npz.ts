/**
 * The `grid.npz` export: one float64 array of shape (|bs|, |width|, |data|) per metric (NaN where missing)
 * and the axes, all plain numeric arrays, so `numpy.load` reads it without `allow_pickle`.
 *
 * The data axis is written as int64 (10, 9, ..., 1): the npy writer has no unicode dtype, and an object
 * array of strings would need allow_pickle. Reading it back spells them zero-padded to two digits ("09").
 */
import { NpArray, NpDtype, readNpz, writeNpz } from '../formats/index.js';
import { MetricsStructureError } from './errors.js';
import { emptyGrid, gridSize, type Axes, type Grid } from './grid.js';
import { METRIC_NAMES } from './metrics.js';
import { describePy } from './py-inspect.js';

const F8 = new NpDtype('<f8');
const I8 = new NpDtype('<i8');

/** Names of the axis arrays in grid.npz. */
export const NPZ_AXES = ['bs', 'width', 'data'] as const;

/** The arrays of grid.npz, by name: the metrics (METRIC_NAMES order), then `bs`, `width`, `data`. */
export function gridNpzArrays(grid: Grid): Map<string, NpArray> {
  const { axes } = grid;
  const shape = [axes.bs.length, axes.width.length, axes.data.length];
  const arrays = new Map<string, NpArray>();
  for (const name of METRIC_NAMES) arrays.set(name, new NpArray(F8, shape, grid.metrics[name]));
  const ints = (xs: readonly number[]) => new NpArray(I8, [xs.length], BigInt64Array.from(xs, (x) => BigInt(x)));
  arrays.set('bs', ints(axes.bs));
  arrays.set('width', ints(axes.width));
  arrays.set('data', ints(axes.data.map((d) => Number.parseInt(d, 10))));
  return arrays;
}

/**
 * The bytes of grid.npz: stored, as `numpy.savez` writes (numpy loads either). Deflating (`compress: true`,
 * as `numpy.savez_compressed`) saved ~60 KB of ~165 KB per collection and cost ~105 ms per export in a CLI
 * process (fflate, before its code warms up), against ~7-25 ms stored: the export of one changed
 * checkpoint's collection pays it every time.
 */
export function writeGridNpz(grid: Grid, options: { compress?: boolean } = {}): Uint8Array {
  return writeNpz(gridNpzArrays(grid), { compress: options.compress ?? false });
}

/**
 * Reads a grid.npz written by `writeGridNpz` back into a Grid (data labels zero-padded to two digits).
 * @throws FormatError from the reader; MetricsStructureError if an array is missing or mis-shaped
 */
export function readGridNpz(bytes: Uint8Array, file: string): Grid {
  const arrays = readNpz(bytes, file, {});
  const axis = (name: (typeof NPZ_AXES)[number]): number[] => {
    const a = arrays.get(name);
    if (!(a instanceof NpArray) || a.dtype.str !== '<i8' || a.shape.length !== 1) {
      throw new MetricsStructureError(file, `an int64 vector '${name}'`, a ? describePy(a) : 'none', 'in the archive');
    }
    return Array.from(a.data as BigInt64Array, Number);
  };
  const axes: Axes = { bs: axis('bs'), width: axis('width'), data: axis('data').map((d) => String(d).padStart(2, '0')) };
  const grid = emptyGrid(axes);
  for (const name of METRIC_NAMES) {
    const a = arrays.get(name);
    if (!(a instanceof NpArray) || a.dtype.str !== '<f8' || a.size !== gridSize(axes) || a.shape.length !== 3) {
      throw new MetricsStructureError(file, `a float64 array '${name}' of shape (${axes.bs.length}, ${axes.width.length}, ${axes.data.length})`, a ? describePy(a) : 'none', 'in the archive');
    }
    grid.metrics[name].set(a.data as Float64Array);
  }
  return grid;
}
