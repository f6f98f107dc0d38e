/**
 * Room for improvement (SPEC "Room for improvement"): for configuration (i, j, k) and an operation that
 * moves one knob in one direction, the test accuracies reachable that way (the configuration itself
 * included), their max (NaN ignored) and max - T[i][j][k] (NaN when T[i][j][k] is NaN).
 *
 * `all` lists cells in ascending axis index whatever the direction (inc-temp: T[0..i], dec-temp:
 * T[i..end]), which is the published dictionary's order.
 */
import { cellIndex, type Axes } from './grid.js';

/** The six operations, in SPEC's order (also the tie order of the dictionary's label). */
export const OPERATIONS = ['inc-temp', 'dec-temp', 'inc-width', 'dec-width', 'inc-data', 'dec-data'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface RfiCell {
  /** The test accuracies considered, in ascending axis index (NaN ones included). */
  all: number[];
  /** Their max, NaN ignored (NaN if all are). */
  max: number;
  /** max - own test accuracy; NaN if the own one is NaN. */
  improvement: number;
}

/** Which axis an operation moves along (0 bs, 1 width, 2 data) and whether toward higher indices. */
const MOVES: Readonly<Record<Operation, { axis: 0 | 1 | 2; up: boolean }>> = {
  'inc-temp': { axis: 0, up: false }, // smaller batch = lower bs index
  'dec-temp': { axis: 0, up: true },
  'inc-width': { axis: 1, up: true },
  'dec-width': { axis: 1, up: false },
  'inc-data': { axis: 2, up: false }, // more data = toward "10" = lower data index
  'dec-data': { axis: 2, up: true },
};

/** The index range [from, to] an operation covers along its axis from position `at`. */
function span(op: Operation, axes: Axes, at: number): [number, number] {
  const len = [axes.bs.length, axes.width.length, axes.data.length][MOVES[op].axis];
  return MOVES[op].up ? [at, len - 1] : [0, at];
}

/**
 * The room for improvement of cell (i, j, k) under `op`.
 * @param testAcc the test_acc grid over `axes`
 */
export function rfiCell(testAcc: Float64Array, axes: Axes, i: number, j: number, k: number, op: Operation): RfiCell {
  const { axis } = MOVES[op];
  const [from, to] = span(op, axes, [i, j, k][axis]);
  const all: number[] = [];
  let max = NaN;
  for (let p = from; p <= to; p++) {
    const v = testAcc[cellIndex(axes, axis === 0 ? p : i, axis === 1 ? p : j, axis === 2 ? p : k)];
    all.push(v);
    if (!Number.isNaN(v) && !(v <= max)) max = v;
  }
  return { all, max, improvement: max - testAcc[cellIndex(axes, i, j, k)] };
}

/**
 * The improvement of every cell under `op` (the dataframe's rfi_* columns), without the `all` lists:
 * one pass per line along the axis, so it is linear in the grid size.
 */
export function rfiImprovement(testAcc: Float64Array, axes: Axes, op: Operation): Float64Array {
  const dims = [axes.bs.length, axes.width.length, axes.data.length];
  const { axis, up } = MOVES[op];
  const out = new Float64Array(testAcc.length);
  const len = dims[axis];
  const [o1, o2] = [0, 1, 2].filter((a) => a !== axis);
  for (let a = 0; a < dims[o1]; a++) {
    for (let b = 0; b < dims[o2]; b++) {
      let max = NaN;
      for (let s = 0; s < len; s++) {
        const p = up ? len - 1 - s : s; // running max from the far end toward the cell
        const idx = [0, 0, 0];
        idx[axis] = p;
        idx[o1] = a;
        idx[o2] = b;
        const at = cellIndex(axes, idx[0], idx[1], idx[2]);
        const v = testAcc[at];
        if (!Number.isNaN(v) && !(v <= max)) max = v;
        out[at] = max - v;
      }
    }
  }
  return out;
}

/** Every operation's improvement grid: the output of the `rfi` stage. */
export type RfiGrids = Readonly<Record<Operation, Float64Array>>;

/** The improvement of every cell under each of the six operations. */
export function computeRfi(testAcc: Float64Array, axes: Axes): RfiGrids {
  const out = {} as Record<Operation, Float64Array>;
  for (const op of OPERATIONS) out[op] = rfiImprovement(testAcc, axes, op);
  return out;
}
