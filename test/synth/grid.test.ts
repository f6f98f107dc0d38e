/**
 * From a grid: the written tree gives back the grid's cells through the extractor. Against the published
 * grid where ../shared exists (skipped, saying so, otherwise), and against a self-made grid always.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAYOUT } from '../../config/defaults.js';
import { parseLayout } from '../../config/layout.js';
import { cellIndex, emptyGrid, type Axes, type Grid } from '../../dataset/grid.js';
import { readPublishedGrid } from '../../dataset/published-grid.js';
import { METRIC_NAMES, type MetricName } from '../../dataset/metrics.js';
import { ln } from '../../dataset/ln.js';
import { numpyMean } from '../../dataset/numpy-mean.js';
import { resolveAxes, SMALL_AXES } from '../../synth/axes.js';
import { SynthError, synthesize } from '../../synth/index.js';
import { rngFromKey } from '../../synth/prng.js';
import { PUBLISHED_METRICS, writePublishedGridFile } from '../helpers/published-grid-file.js';
import { describeIfShared, PUBLISHED_GRID } from '../helpers/shared.js';
import { closeRel, extractFolder, readTree, tempDir } from './support.js';

const layout = parseLayout(DEFAULT_LAYOUT, 'test');
const GRID_METRICS = PUBLISHED_METRICS;

function cells(axes: Axes): Array<{ bs: number; width: number; data: string }> {
  return axes.data.flatMap((data) => axes.bs.flatMap((bs) => axes.width.map((width) => ({ bs, width, data }))));
}

function gridValue(grid: Grid, metric: MetricName, c: { bs: number; width: number; data: string }): number {
  return grid.metrics[metric][cellIndex(grid.axes, grid.axes.bs.indexOf(c.bs), grid.axes.width.indexOf(c.width), grid.axes.data.indexOf(c.data))];
}

describeIfShared('from the published grid', () => {
  // 3 bs x 3 width x 2 data, chosen so the cells hold every shape of curve the published grid has:
  // barriers, dips, flat at 0 with peak -0.0, an end farther than the peak; and train_acc = 100.
  const axes: Axes = { bs: [16, 128, 1024], width: [2, 16, 128], data: ['10', '01'] };
  let grid: Grid;
  let root: string;
  let result: Awaited<ReturnType<typeof synthesize>>;

  beforeAll(async () => {
    grid = readPublishedGrid(readFileSync(PUBLISHED_GRID), PUBLISHED_GRID);
    root = tempDir();
    result = await synthesize({ out: root, collection: 'basic', grid: PUBLISHED_GRID, axes });
  });

  test('the selected cells cover the edge cases', () => {
    const shapes = new Set<string>();
    for (const c of cells(axes)) {
      const mc = gridValue(grid, 'mode_connectivity', c);
      const peak = gridValue(grid, 'mode_connectivity_peak', c);
      if (mc > 0) shapes.add('dip');
      if (mc < 0 && -peak >= -mc) shapes.add('barrier');
      if (mc < 0 && -peak < -mc) shapes.add('end farthest');
      if (Object.is(mc, 0) && Object.is(peak, -0)) shapes.add('flat, peak -0.0');
      if (gridValue(grid, 'train_acc', c) === 100) shapes.add('train_acc 100');
    }
    expect([...shapes].sort()).toEqual(['barrier', 'dip', 'end farthest', 'flat, peak -0.0', 'train_acc 100']);
  });

  test('every metric of every cell comes back through the extractor: to the bit, hessian_e within an ulp', () => {
    let exact = 0;
    let compared = 0;
    for (const c of cells(axes)) {
      const { metrics, notes } = extractFolder(join(root, layout.format(c)));
      expect(notes).toEqual([]);
      for (const metric of GRID_METRICS) {
        const want = gridValue(grid, metric, c);
        const got = metrics[metric];
        compared++;
        if (Object.is(got, want)) exact++;
        else {
          // Some published hessian_e values are ln of no double at all (ln's outputs near 0 are sparser
          // than the doubles): the nearest is one ulp off.
          expect([metric, c, got]).toEqual(['hessian_e', c, got]);
          expect(closeRel(got, want, 2.3e-16)).toBe(true);
        }
        expect(closeRel(got, want, metric === 'CKA' ? 1e-6 : 1e-9)).toBe(true);
      }
    }
    expect(compared).toBe(18 * 10);
    expect(exact).toBeGreaterThanOrEqual(compared - 2);
  });

  test('the published generalization_gap is train_acc - test_acc; the fit report agrees with the extractor', () => {
    expect(result.warnings).toEqual([]);
    expect(result.folders).toBe(18);
    expect(result.fit!.values).toBe(18 * 9);
    expect(result.fit!.maxRelError).toBeLessThanOrEqual(2.3e-16);
    const fromExtractor = cells(axes).reduce((n, c) => {
      const m = extractFolder(join(root, layout.format(c))).metrics;
      return n + GRID_METRICS.filter((k) => k !== 'generalization_gap' && Object.is(m[k], gridValue(grid, k, c))).length;
    }, 0);
    expect(result.fit!.exact).toBe(fromExtractor);
  });

  test('axes not on the grid are refused, naming the grid and its values', async () => {
    const err = await synthesize({ out: tempDir(), collection: 'basic', grid: PUBLISHED_GRID, axes: { bs: [16, 17], width: [2], data: ['10'] } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthError);
    expect((err as Error).message).toContain(`${PUBLISHED_GRID}: the grid has no bs 17\n  fix: choose bs values from the grid's axis: 16, 24, 32,`);
  });
});

describe('resolveAxes', () => {
  test('small, full and explicit axes, with and without a grid', () => {
    const gridAxes: Axes = { bs: [8, 16, 64, 256, 512], width: [1, 2, 3, 4, 5], data: ['10', '07'] };
    expect(resolveAxes('small')).toEqual(SMALL_AXES);
    expect(resolveAxes(undefined, gridAxes)).toBe(gridAxes);
    expect(resolveAxes('full', gridAxes)).toBe(gridAxes);
    // SMALL_AXES' bs are on this grid; its widths and data are not: spread over the grid's instead.
    expect(resolveAxes('small', gridAxes)).toEqual({ bs: [16, 64, 256], width: [1, 3, 5], data: ['10', '07'] });
    expect(() => resolveAxes({ bs: [16], width: [9], data: ['10'] }, gridAxes, 'g.npy')).toThrow(/^g.npy: the grid has no width 9/);
  });
});

describe('from a self-made grid (no ../shared needed)', () => {
  const axes: Axes = { bs: [16, 256], width: [4, 64], data: ['10', '03'] };

  /**
   * A grid with edge cases. `measured`: values as real files give them (means of five seeds, ln of a
   * mean, float32 CKA means), which some set of files reproduces exactly; otherwise arbitrary doubles,
   * some of which no set of files reproduces to the bit.
   */
  function makeGrid(measured: boolean): Grid {
    const g = emptyGrid(axes);
    const set = (c: { bs: number; width: number; data: string }, v: Partial<Record<MetricName, number>>) => {
      const at = cellIndex(axes, axes.bs.indexOf(c.bs), axes.width.indexOf(c.width), axes.data.indexOf(c.data));
      for (const [k, x] of Object.entries(v)) g.metrics[k as MetricName][at] = x;
    };
    const rng = rngFromKey('self-made grid');
    const mean5 = (lo: number, hi: number, step?: number) =>
      numpyMean(Array.from({ length: 5 }, () => (step ? Math.round(rng.uniform(lo, hi) / step) * step : rng.uniform(lo, hi))), 'f8');
    let i = 0;
    for (const c of cells(axes)) {
      i++;
      const testAcc = measured ? mean5(40, 80, 0.01) : 50 + i * 2.137;
      const trainAcc = i % 3 === 0 ? 100 : measured ? mean5(82, 99.9, 0.002) : testAcc + 7.3333333333;
      set(c, {
        test_acc: testAcc, train_acc: trainAcc, generalization_gap: trainAcc - testAcc,
        test_loss: measured ? mean5(0.4, 2) : 0.4 + i / 7,
        train_loss: measured ? mean5(0.0002, 0.5) : 0.0002 * i,
        hessian_e: measured ? ln(mean5(0.3, 1000)) : -1.2 + i * 0.61,
        hessian_t: measured ? ln(mean5(5, 5000)) : 1.7 + i * 0.43,
        mode_connectivity: [-12.5, 3.25, 0, -7, 9.1][i % 5],
        mode_connectivity_peak: [-20, -10.5, -0, -2, -33.3][i % 5],
        CKA: measured ? numpyMean(Array.from({ length: 20 }, () => Math.fround(rng.uniform(0.1, 0.8))), 'f4') : 0.08 + i * 0.045,
      });
    }
    // Edge cells: everything NaN (a missing configuration), part of a file NaN, CKA NaN, mc NaN only,
    // and a generalization_gap that is not train_acc - test_acc.
    for (const k of METRIC_NAMES) set({ bs: 16, width: 4, data: '10' }, { [k]: NaN });
    set({ bs: 16, width: 4, data: '03' }, { test_acc: NaN, generalization_gap: NaN, CKA: NaN });
    set({ bs: 16, width: 64, data: '10' }, { mode_connectivity: NaN });
    set({ bs: 256, width: 64, data: '03' }, { generalization_gap: 1 });
    return g;
  }

  test('reproduces every cell exactly, leaves out what is NaN, and warns about an inconsistent gap', async () => {
    const grid = makeGrid(true);
    const dir = tempDir();
    const file = join(dir, 'grid.npy');
    writePublishedGridFile(grid, file);
    const root = join(dir, 'raw');
    const result = await synthesize({ out: root, collection: 'noisy', layout: DEFAULT_LAYOUT, grid: file });
    expect(result.folders).toBe(7);
    expect(result.fit).toMatchObject({ exact: result.fit!.values, maxRelError: 0 });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/grid\.npy: generalization_gap differs from train_acc - test_acc .* in 1 cell\(s\), e\.g\. bs 256, width 64, data "03": 1 vs/);

    const tree = readTree(root);
    const missing = layout.format({ bs: 16, width: 4, data: '10' });
    expect([...tree.keys()].some((p) => p.startsWith(missing))).toBe(false);
    expect(tree.has(`${layout.format({ bs: 16, width: 4, data: '03' })}/CKA_mixup_alpha_16.0.pkl`)).toBe(false);
    expect(tree.has(`${layout.format({ bs: 16, width: 4, data: '03' })}/loss_acc_test.pkl`)).toBe(true);

    for (const c of cells(axes)) {
      if (layout.format(c) === missing) continue;
      const { metrics } = extractFolder(join(root, layout.format(c)));
      for (const metric of GRID_METRICS) {
        const want = metric === 'generalization_gap' ? gridValue(grid, 'train_acc', c) - gridValue(grid, 'test_acc', c) : gridValue(grid, metric, c);
        expect([metric, c, metrics[metric]]).toEqual([metric, c, want]);
      }
    }
  });

  test('a Grid object works as well, and a rerun removes files that are now NaN', async () => {
    const root = tempDir();
    await synthesize({ out: root, collection: 'basic', axes });
    expect(readTree(root).size).toBe(8 * 6);
    const result = await synthesize({ out: root, collection: 'basic', grid: makeGrid(true) });
    expect(result.files).toBe(readTree(root).size);
    expect(readTree(root).size).toBe(8 * 6 - 6 - 1);
    const m = extractFolder(join(root, layout.format({ bs: 16, width: 4, data: '10' }))).metrics;
    expect(Object.values(m).every(Number.isNaN)).toBe(true);
  });

  test('arbitrary values (some of which no files reproduce to the bit) come back within a few ulps', async () => {
    const grid = makeGrid(false);
    const root = tempDir();
    const result = await synthesize({ out: root, collection: 'basic', grid });
    expect(result.fit!.exact).toBeLessThan(result.fit!.values);
    // CKA is a float32 mean: a double target such as 0.26 is met to float32 precision only.
    expect(result.fit!.worst).toMatch(/^CKA /);
    expect(result.fit!.maxRelError).toBeLessThan(1e-7);
    for (const c of cells(axes)) {
      if (c.bs === 16 && c.width === 4 && c.data === '10') continue;
      const { metrics } = extractFolder(join(root, layout.format(c)));
      for (const metric of GRID_METRICS) {
        if (metric === 'generalization_gap') continue;
        const want = gridValue(grid, metric, c);
        expect([metric, c, closeRel(metrics[metric], want, metric === 'CKA' ? 1e-6 : 1e-12)]).toEqual([metric, c, true]);
      }
    }
  });
});
