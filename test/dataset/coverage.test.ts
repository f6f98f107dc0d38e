/** report.json's warnings read as people read counts (issue 14 point 11): `1,690`, not `1690`. */
import { coverageReport } from '../../dataset/coverage.js';
import { labelOutput } from '../../dataset/labels.js';
import { offConfiguredAxes } from '../../dataset/outside-axes.js';
import { buildRawGrid } from '../../dataset/raw-grid.js';
import { rfiOutput } from '../../dataset/rfi.js';

test('counts in the coverage warnings have thousands separators', () => {
  // 10 x 10 x 12 = 1,200 configurations on the axes, one checkpoint found.
  const bs = [16, 24, 32, 44, 64, 92, 128, 180, 256, 364];
  const width = [2, 3, 4, 6, 8, 11, 16, 23, 32, 45];
  const data = ['12', '11', '10', '09', '08', '07', '06', '05', '04', '03', '02', '01'];
  const found = [{ coords: { bs: 16, width: 2, data: '10' }, metrics: { test_acc: 90 }, absent: [] }];
  const { grid, coverage } = buildRawGrid({ bs, width, data }, found, []);
  const labels = labelOutput(rfiOutput(grid.metrics.test_acc, grid.axes).grids).labels;
  const report = coverageReport('c', grid, coverage, labels);
  expect(report.warnings).toContain('1,199 of 1,200 configurations have no checkpoint folder (their rows are NaN)');
});

test('a folder off the configured axes is named with the axis; an axis left out takes any value', () => {
  const axes = { bs: [16, 32], data: ['10'] };
  expect(offConfiguredAxes(axes, { bs: 16, width: 999, data: '10' })).toBeUndefined();
  expect(offConfiguredAxes(axes, { bs: 24, width: 2, data: '10' })).toBe('bs 24 is not on the configured bs axis');
  expect(offConfiguredAxes(axes, { bs: 32, width: 2, data: '09' })).toBe('data "09" is not on the configured data axis');
  expect(offConfiguredAxes({ width: [2] }, { bs: 1, width: 3, data: '01' })).toBe('width 3 is not on the configured width axis');
  // The report lists what discovery recorded, sorted, with the same reason.
  const outside = [{ folder: 'z/bs_24', reason: offConfiguredAxes(axes, { bs: 24, width: 2, data: '10' })! }, { folder: 'a/bs_64', reason: 'bs 64 is not on the configured bs axis' }];
  const { coverage } = buildRawGrid({ ...axes, width: [2] }, [], outside);
  expect(coverage.outsideAxes.map((o) => o.folder)).toEqual(['a/bs_64', 'z/bs_24']);
});
