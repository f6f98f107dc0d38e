/**
 * Room for improvement (SEMANTICS.md "Room for improvement"): for configuration (i, j, k) and an operation
 * that moves one knob in one direction, the test accuracies reachable that way (the configuration itself
 * included), their max (NaN ignored) and max - T[i][j][k] (NaN when T[i][j][k] is NaN).
 *
 * `all` lists cells in ascending axis index whatever the direction (inc-temp: T[0..i], dec-temp:
 * T[i..end]), which is the published dictionary's order.
 */
import { cellIndex, type Axes } from './grid.js';

/** The six operations, in SEMANTICS.md's order (also the tie order of the dictionary's label). */
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
  const out = new Float64Array(testAcc.length);
  for (const line of linesAlong(axes, MOVES[op].axis)) improvementAlong(testAcc, line, MOVES[op].up, out);
  return out;
}

/** Writes the improvement under an operation along `line` (cell offsets in ascending axis index) into `out`. */
function improvementAlong(testAcc: Float64Array, line: readonly number[], up: boolean, out: Float64Array): void {
  let max = NaN;
  const len = line.length;
  for (let s = 0; s < len; s++) {
    const at = line[up ? len - 1 - s : s]; // running max from the far end toward the cell
    const v = testAcc[at];
    if (!Number.isNaN(v) && !(v <= max)) max = v;
    out[at] = max - v;
  }
}

/** The grid's dimensions: |bs|, |width|, |data|. */
export function gridShape(axes: Axes): [number, number, number] {
  return [axes.bs.length, axes.width.length, axes.data.length];
}

/** Every line of cells along `axis`, each as cell offsets in ascending axis index. */
function linesAlong(axes: Axes, axis: 0 | 1 | 2): number[][] {
  const dims = gridShape(axes);
  const [o1, o2] = [0, 1, 2].filter((a) => a !== axis);
  const lines: number[][] = [];
  for (let a = 0; a < dims[o1]; a++) {
    for (let b = 0; b < dims[o2]; b++) {
      const idx = [0, 0, 0];
      idx[o1] = a;
      idx[o2] = b;
      lines.push(lineFrom(axes, axis, idx));
    }
  }
  return lines;
}

/** The line along `axis` through cell offset `at`. */
export function lineThrough(axes: Axes, axis: 0 | 1 | 2, at: number): number[] {
  const [, nw, nd] = gridShape(axes);
  const k = at % nd;
  const j = Math.floor(at / nd) % nw;
  const i = Math.floor(at / (nd * nw));
  return lineFrom(axes, axis, [i, j, k]);
}

function lineFrom(axes: Axes, axis: 0 | 1 | 2, idx: number[]): number[] {
  const len = gridShape(axes)[axis];
  const line = new Array<number>(len);
  const p = [...idx];
  for (let s = 0; s < len; s++) {
    p[axis] = s;
    line[s] = cellIndex(axes, p[0], p[1], p[2]);
  }
  return line;
}

/**
 * For every cell, whether the cells `op` considers from it (the cell itself included) hold a NaN test
 * accuracy: where they do, its improvement was taken over fewer configurations than the axes have.
 */
export function nanInReach(testAcc: Float64Array, axes: Axes, op: Operation): Uint8Array {
  const out = new Uint8Array(testAcc.length);
  const { axis, up } = MOVES[op];
  for (const line of linesAlong(axes, axis)) {
    let nan = 0;
    const len = line.length;
    for (let s = 0; s < len; s++) {
      const at = line[up ? len - 1 - s : s];
      if (Number.isNaN(testAcc[at])) nan = 1;
      out[at] = nan;
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

/** What the `rfi` stage passes on: the improvements, and the test accuracies they came from (to patch them next time). */
export interface RfiOutput {
  grids: RfiGrids;
  /** The test_acc grid the improvements were computed from. */
  testAcc: Float64Array;
  /** Its dimensions (|bs|, |width|, |data|). */
  shape: number[];
}

/** {@link computeRfi} as the stage's output. */
export function rfiOutput(testAcc: Float64Array, axes: Axes): RfiOutput {
  return { grids: computeRfi(testAcc, axes), testAcc: testAcc.slice(), shape: gridShape(axes) };
}

/**
 * {@link rfiOutput} from the previous output, recomputing only the lines through cells whose test accuracy
 * changed (bit for bit): the improvement of a cell under an operation depends on the cells of one line
 * through it (SEMANTICS.md's table), so a changed cell moves at most |bs| + |width| + |data| - 2 cells'
 * values (34 of 1,690). Returns null when the grid's dimensions changed (compute in full then).
 */
export function patchRfi(previous: RfiOutput, testAcc: Float64Array, axes: Axes): RfiOutput | null {
  const shape = gridShape(axes);
  if (!Array.isArray(previous?.shape) || !ArrayBuffer.isView(previous.testAcc)) return null; // another shape of value: a hint only
  if (previous.shape.length !== 3 || shape.some((n, a) => n !== previous.shape[a]) || previous.testAcc.length !== testAcc.length) return null;
  const grids = {} as Record<Operation, Float64Array>;
  for (const op of OPERATIONS) grids[op] = previous.grids[op].slice();
  const done = [new Set<number>(), new Set<number>(), new Set<number>()];
  for (const at of changedCells(previous.testAcc, testAcc)) {
    for (const axis of [0, 1, 2] as const) {
      const line = lineThrough(axes, axis, at);
      if (done[axis].has(line[0])) continue;
      done[axis].add(line[0]);
      for (const op of OPERATIONS) if (MOVES[op].axis === axis) improvementAlong(testAcc, line, MOVES[op].up, grids[op]);
    }
  }
  return { grids, testAcc: testAcc.slice(), shape };
}

/** Offsets where two arrays of equal length differ bit for bit (NaN payloads and -0 included). */
export function changedCells(before: Float64Array, after: Float64Array): number[] {
  const a = new Uint32Array(before.buffer, before.byteOffset, before.length * 2);
  const b = new Uint32Array(after.buffer, after.byteOffset, after.length * 2);
  const out: number[] = [];
  for (let at = 0; at < before.length; at++) {
    if (a[2 * at] !== b[2 * at] || a[2 * at + 1] !== b[2 * at + 1]) out.push(at);
  }
  return out;
}
