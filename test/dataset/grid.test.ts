import { DatasetInputError } from '../../dataset/errors.js';
import { buildGrid, cellIndex, checkAxes, emptyGrid, gridSize, type Axes } from '../../dataset/grid.js';
import { METRIC_NAMES } from '../../dataset/metrics.js';

const axes: Axes = { bs: [16, 32, 64], width: [2, 4], data: ['10', '09', '05'] };

describe('grid layout', () => {
  test('size and C-order index [bs][width][data]', () => {
    expect(gridSize(axes)).toBe(18);
    expect(cellIndex(axes, 0, 0, 0)).toBe(0);
    expect(cellIndex(axes, 0, 0, 2)).toBe(2);
    expect(cellIndex(axes, 0, 1, 0)).toBe(3);
    expect(cellIndex(axes, 1, 0, 0)).toBe(6);
    expect(cellIndex(axes, 2, 1, 2)).toBe(17);
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) seen.add(cellIndex(axes, i, j, k));
    expect(seen.size).toBe(18);
  });

  test('empty grid: every metric (L2 included) all NaN', () => {
    const g = emptyGrid(axes);
    expect(Object.keys(g.metrics).sort()).toEqual([...METRIC_NAMES].sort());
    for (const name of METRIC_NAMES) {
      expect(g.metrics[name]).toHaveLength(18);
      expect(g.metrics[name].every(Number.isNaN)).toBe(true);
    }
  });

  test('axes with a repeated or no value are refused', () => {
    expect(() => checkAxes({ ...axes, bs: [16, 16] })).toThrow(DatasetInputError);
    expect(() => checkAxes({ ...axes, bs: [16, 16] })).toThrow(/axis bs lists 16 twice/);
    expect(() => checkAxes({ ...axes, data: [] })).toThrow(/axis data is empty/);
  });
});

describe('buildGrid', () => {
  test('places each entry at its cell, leaves the rest NaN, keeps unset metrics NaN', () => {
    const { grid, outside } = buildGrid(axes, [
      { bs: 32, width: 4, data: '09', metrics: { test_acc: 81.5, L2: 3 } },
      { bs: 16, width: 2, data: '10', metrics: { test_acc: 50, CKA: 0.25 } },
    ]);
    expect(outside).toEqual([]);
    const a = cellIndex(axes, 1, 1, 1);
    const b = cellIndex(axes, 0, 0, 0);
    expect(grid.metrics.test_acc[a]).toBe(81.5);
    expect(grid.metrics.L2[a]).toBe(3);
    expect(grid.metrics.CKA[a]).toBeNaN();
    expect(grid.metrics.test_acc[b]).toBe(50);
    expect(grid.metrics.CKA[b]).toBe(0.25);
    const filled = grid.metrics.test_acc.filter((v) => !Number.isNaN(v));
    expect(filled).toHaveLength(2);
  });

  test('entries off the axes are returned, not dropped silently', () => {
    const { grid, outside } = buildGrid(axes, [
      { bs: 19, width: 2, data: '10', metrics: { test_acc: 1 } },
      { bs: 16, width: 1, data: '10', metrics: { test_acc: 2 } },
      { bs: 16, width: 2, data: '07', metrics: { test_acc: 3 } },
      { bs: 16, width: 2, data: '10', metrics: { test_acc: 4 } },
    ]);
    expect(outside).toEqual([
      { bs: 19, width: 2, data: '10' },
      { bs: 16, width: 1, data: '10' },
      { bs: 16, width: 2, data: '07' },
    ]);
    expect(grid.metrics.test_acc.filter((v) => !Number.isNaN(v))).toEqual(new Float64Array([4]));
  });

  test('two entries for one configuration are an error naming it', () => {
    const twice = [
      { bs: 64, width: 2, data: '05', metrics: { test_acc: 1 } },
      { bs: 64, width: 2, data: '05', metrics: { test_acc: 2 } },
    ];
    expect(() => buildGrid(axes, twice)).toThrow(DatasetInputError);
    expect(() => buildGrid(axes, twice)).toThrow(/bs 64, width 2, data "05"/);
  });
});
