/**
 * Against ../shared/reference (skipped, saying so, when absent): the 210 real checkpoint folders of
 * raw-sample/ must give raw-sample.expected.csv, metric by metric and as a whole dataframe.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import fg from 'fast-glob';
import { extractCheckpointMetrics, type CheckpointMetrics } from '../../dataset/checkpoint-metrics.js';
import { buildDataframeRows, dataframeToCsv } from '../../dataset/dataframe.js';
import { buildGrid, type Axes, type GridEntry } from '../../dataset/grid.js';
import { METRIC_FILES } from '../../dataset/metrics.js';
import { formatPythonFloat } from '../../dataset/python-float.js';
import { compareCsv } from './compare-csv.js';
import { REFERENCE, closeRel, describeIfShared } from '../helpers/shared.js';

const AXES: Axes = {
  bs: [16, 19, 24, 27, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024],
  width: [1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128],
  data: ['10'],
};
const COMPARED = ['test_acc', 'train_acc', 'generalization_gap', 'test_loss', 'train_loss', 'CKA', 'hessian_e', 'hessian_t',
  'mode_connectivity', 'mode_connectivity_peak'] as const;

describeIfShared('raw-sample/ against raw-sample.expected.csv', () => {
  const raw = join(REFERENCE, 'raw-sample');
  const expectedText = readFileSync(join(REFERENCE, 'raw-sample.expected.csv'), 'utf8');
  const expected: Array<Record<string, string>> = parse(expectedText, { columns: true });
  const expectedRow = new Map(expected.map((r) => [`${r.bs}/${r.width}/${r.data}`, r]));

  const folders = fg.sync('different_knobs_subset_*/bs_*/lr_decay/ResNet18_w*/metrics', { cwd: raw, onlyDirectories: true }).sort();
  const results: Array<{ folder: string; entry: GridEntry; result: CheckpointMetrics }> = [];
  beforeAll(() => {
    for (const folder of folders) {
      const m = /different_knobs_subset_(\d+)\/bs_(\d+)\/lr_decay\/ResNet18_w(\d+)\/metrics$/.exec(folder)!;
      const dir = join(raw, folder);
      const files = new Map<string, Uint8Array | null>();
      for (const name of METRIC_FILES) files.set(name, existsSync(join(dir, name)) ? readFileSync(join(dir, name)) : null);
      const result = extractCheckpointMetrics(files, dir);
      results.push({ folder, result, entry: { data: m[1], bs: Number(m[2]), width: Number(m[3]), metrics: result.metrics } });
    }
  });

  test('all 210 folders are read, each with 5 seeds', () => {
    expect(folders).toHaveLength(210);
    expect(results).toHaveLength(210);
    expect(results.every((r) => r.result.seeds === 5)).toBe(true);
  });

  test('every metric of every folder equals the expected CSV within 1e-12 (NaN where expected is empty)', () => {
    let compared = 0;
    let exact = 0;
    const bad: string[] = [];
    for (const { folder, entry, result } of results) {
      const row = expectedRow.get(`${entry.bs}/${entry.width}/${Number(entry.data)}`);
      expect([folder, row !== undefined]).toEqual([folder, true]);
      for (const metric of COMPARED) {
        const cell = row![metric];
        const want = cell === '' ? NaN : Number(cell);
        const got = result.metrics[metric];
        compared++;
        if (!closeRel(got, want)) bad.push(`${folder} ${metric}: ${got} != ${cell}`);
        if ((cell === '' && Number.isNaN(got)) || (!Number.isNaN(got) && formatPythonFloat(got) === cell)) exact++;
      }
    }
    console.log(`raw-sample metrics: ${compared} compared, ${exact} identical as text (${compared - exact} differ only in the last digits)`);
    expect(bad).toEqual([]);
    expect(compared).toBe(210 * COMPARED.length);
  });

  test('bs 19 and 27 have no loss_acc_test.pkl: test metrics NaN, noted', () => {
    const missing = results.filter((r) => r.entry.bs === 19 || r.entry.bs === 27);
    expect(missing).toHaveLength(28);
    for (const r of missing) {
      expect(r.result.metrics.test_acc).toBeNaN();
      expect(r.result.metrics.generalization_gap).toBeNaN();
      expect(r.result.notes).toContain('loss_acc_test.pkl absent: test_acc, test_loss are NaN');
    }
    expect(results.filter((r) => r.result.notes.some((n) => n.includes('absent')))).toHaveLength(28);
  });

  test('the dataframe built from them equals the expected CSV (same rows, columns, order, labels)', () => {
    const { grid, outside } = buildGrid(AXES, results.map((r) => r.entry));
    expect(outside).toEqual([]);
    const csv = dataframeToCsv(buildDataframeRows(grid));
    const cmp = compareCsv(csv, expectedText);
    console.log(`raw-sample dataframe: ${cmp.rows} rows, ${cmp.cells} cells, ${cmp.exactText} identical as text; numeric-only matches by column: ${JSON.stringify(cmp.textDiffByColumn)}`);
    expect(cmp.mismatches).toEqual([]);
    expect(cmp.rows).toBe(210);
  });
});
