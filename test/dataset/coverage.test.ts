/** report.json's warnings read as people read counts (issue 14 point 11): `1,690`, not `1690`. */
import { coverageReport } from '../../dataset/coverage.js';
import { labelOutput } from '../../dataset/labels.js';
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
