import { cellIndex, gridSize, type Axes } from '../../dataset/grid.js';
import { OPERATIONS, rfiCell, rfiImprovement } from '../../dataset/rfi.js';

/** A 3 x 3 x 2 test_acc grid whose value encodes its cell: 100 * i + 10 * j + k (+ a per-cell twist). */
const axes: Axes = { bs: [16, 32, 64], width: [2, 4, 8], data: ['10', '05'] };
function grid(f: (i: number, j: number, k: number) => number): Float64Array {
  const t = new Float64Array(gridSize(axes));
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) t[cellIndex(axes, i, j, k)] = f(i, j, k);
  return t;
}
const T = grid((i, j, k) => 100 * i + 10 * j + k);

describe('rfiCell', () => {
  test('each operation lists its cells in ascending axis index, own cell included', () => {
    const [i, j, k] = [1, 1, 1];
    expect(rfiCell(T, axes, i, j, k, 'inc-temp').all).toEqual([11, 111]); // T[0..1][1][1]
    expect(rfiCell(T, axes, i, j, k, 'dec-temp').all).toEqual([111, 211]); // T[1..2][1][1]
    expect(rfiCell(T, axes, i, j, k, 'inc-width').all).toEqual([111, 121]); // T[1][1..2][1]
    expect(rfiCell(T, axes, i, j, k, 'dec-width').all).toEqual([101, 111]); // T[1][0..1][1]
    expect(rfiCell(T, axes, i, j, k, 'inc-data').all).toEqual([110, 111]); // T[1][1][0..1]
    expect(rfiCell(T, axes, i, j, k, 'dec-data').all).toEqual([111]); // T[1][1][1..1]
  });

  test('max and improvement', () => {
    expect(rfiCell(T, axes, 1, 1, 1, 'dec-temp')).toEqual({ all: [111, 211], max: 211, improvement: 100 });
    expect(rfiCell(T, axes, 1, 1, 1, 'inc-temp')).toEqual({ all: [11, 111], max: 111, improvement: 0 });
    expect(rfiCell(T, axes, 0, 0, 0, 'inc-width')).toEqual({ all: [0, 10, 20], max: 20, improvement: 20 });
  });

  test('NaN neighbours are ignored; own NaN gives NaN improvement; all NaN gives NaN max', () => {
    const t = grid((i, j, k) => (i === 2 ? NaN : i === 0 && j === 0 && k === 0 ? NaN : 100 * i + 10 * j + k));
    const cell = rfiCell(t, axes, 1, 0, 0, 'dec-temp'); // T[1..2][0][0] = [100, NaN]
    expect(cell.all).toEqual([100, NaN]);
    expect(cell.max).toBe(100);
    expect(cell.improvement).toBe(0);
    const own = rfiCell(t, axes, 2, 1, 0, 'inc-temp'); // T[0..2][1][0] = [10, 110, NaN]
    expect(own.max).toBe(110);
    expect(own.improvement).toBeNaN();
    const allNaN = rfiCell(t, axes, 2, 0, 0, 'dec-temp'); // [NaN]
    expect(allNaN.max).toBeNaN();
    expect(allNaN.improvement).toBeNaN();
    const first = rfiCell(t, axes, 1, 0, 0, 'inc-temp'); // [NaN, 100]: a NaN first is skipped too
    expect(first.max).toBe(100);
  });
});

describe('rfiImprovement (the fast per-grid version)', () => {
  test('equals rfiCell().improvement for every cell and operation, NaN included', () => {
    // deterministic pseudo-random values with NaN holes and ties
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const t = grid(() => (rnd() < 0.2 ? NaN : Math.round(rnd() * 20) / 2));
    let compared = 0;
    for (const op of OPERATIONS) {
      const fast = rfiImprovement(t, axes, op);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) {
        const slow = rfiCell(t, axes, i, j, k, op).improvement;
        expect([op, i, j, k, fast[cellIndex(axes, i, j, k)]]).toEqual([op, i, j, k, slow]);
        compared++;
      }
    }
    expect(compared).toBe(6 * 18);
    expect(t.some(Number.isNaN)).toBe(true);
  });
});
