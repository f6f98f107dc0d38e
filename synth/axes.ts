/**
 * Which configurations the generator writes: the published 13 x 13 x 10 axes, a small subset of them
 * for tests and quick demos, or axes given value by value. With a grid, the axes select the grid's cells.
 */
import { PUBLISHED_BATCH_SIZES, PUBLISHED_DATA, PUBLISHED_WIDTHS } from '../config/defaults.js';
import type { Axes } from '../dataset/grid.js';
import { SynthError } from './errors.js';

/** `small`: 3 x 3 x 2 = 18 configurations; `full`: the published (or the grid's) axes; or explicit values. */
export type AxesOption = 'small' | 'full' | Axes;

/** The small axes: 18 configurations spanning small to large batch size and width, full and half data. */
export const SMALL_AXES: Axes = { bs: [16, 64, 256], width: [2, 8, 32], data: ['10', '05'] };

/** The published collections' axes (docs/SEMANTICS.md): 13 batch sizes x 13 widths x 10 data fractions. */
export const FULL_AXES: Axes = { bs: PUBLISHED_BATCH_SIZES, width: PUBLISHED_WIDTHS, data: PUBLISHED_DATA };

/**
 * The axes to write.
 * @param option what was asked (default `full`)
 * @param gridAxes the grid's axes when writing from a grid: `full` means them, `small` picks SMALL_AXES
 *   where the grid has those values (else 3, 3 and 2 values spread over the grid's axes), and explicit
 *   values must all be on them
 * @param gridFile the grid's file, for messages
 * @throws SynthError for values that are not usable (not on the grid, not positive integers, repeated)
 */
export function resolveAxes(option: AxesOption | undefined, gridAxes?: Axes, gridFile = 'the grid'): Axes {
  const base = gridAxes ?? FULL_AXES;
  if (option === undefined || option === 'full') return base;
  if (option === 'small') {
    if (!gridAxes) return SMALL_AXES;
    return {
      bs: onGridOrSpread(SMALL_AXES.bs, gridAxes.bs, 3),
      width: onGridOrSpread(SMALL_AXES.width, gridAxes.width, 3),
      data: onGridOrSpread(SMALL_AXES.data, gridAxes.data, 2),
    };
  }
  checkValues(option);
  if (gridAxes) {
    for (const axis of ['bs', 'width', 'data'] as const) {
      const have: readonly (number | string)[] = gridAxes[axis];
      const missing = (option[axis] as readonly (number | string)[]).filter((v) => !have.includes(v));
      if (missing.length > 0) {
        throw new SynthError(
          `the grid has no ${axis} ${missing.map((v) => JSON.stringify(v)).join(', ')}`,
          `choose ${axis} values from the grid's axis: ${have.map((v) => JSON.stringify(v)).join(', ')}`,
          gridFile,
        );
      }
    }
  }
  return option;
}

function onGridOrSpread<T>(wanted: readonly T[], axis: readonly T[], count: number): T[] {
  if (wanted.every((v) => axis.includes(v))) return [...wanted];
  if (axis.length <= count) return [...axis];
  return Array.from({ length: count }, (_, i) => axis[Math.round((i * (axis.length - 1)) / (count - 1))]);
}

function checkValues(axes: Axes): void {
  for (const axis of ['bs', 'width'] as const) {
    const bad = axes[axis].filter((v) => !Number.isSafeInteger(v) || v <= 0);
    if (bad.length > 0) throw new SynthError(`${axis} values must be positive integers, not ${bad.join(', ')}`, `give ${axis} as whole numbers, e.g. ${axis === 'bs' ? '16, 64, 256' : '2, 8, 32'}`);
  }
  const badData = axes.data.filter((d) => !/^[0-9]+$/.test(d) || Number(d) === 0);
  if (badData.length > 0) {
    throw new SynthError(
      `data values must be tenths of the training set spelled as in the folder names ("10", "09", ..., "01"), not ${badData.map((d) => JSON.stringify(d)).join(', ')}`,
      'give data as two-digit strings such as "10" and "05"',
    );
  }
  for (const axis of ['bs', 'width', 'data'] as const) {
    const values: readonly (number | string)[] = axes[axis];
    if (values.length === 0) throw new SynthError(`the ${axis} axis is empty`, `give at least one ${axis} value`);
    const dup = values.find((v, i) => values.indexOf(v) !== i);
    if (dup !== undefined) throw new SynthError(`${axis} ${JSON.stringify(dup)} is given twice`, `list each ${axis} value once`);
  }
}
