/**
 * `mdpipe synth --grid` then `mdpipe run` reproduces the published dataframe: every column within a
 * relative 1e-9, CKA within 1e-6, labels identical. All 1,690 configurations of the published grid.
 * Skips, saying so, where ../shared is absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describeIfShared, REFERENCE } from '../helpers/shared.js';
import { expectExit, mdpipe, parseJson, tempDir } from './support.js';

const TEXT_COLUMNS = new Set(['bs_failure', 'width_vs_batch', 'data_vs_batch']);
const tolerance = (column: string): number => (column === 'CKA' ? 1e-6 : 1e-9);

/** Cells that differ by more than their column's tolerance, as "row N column: ours != theirs". */
function mismatches(ours: string[][], theirs: string[][]): string[] {
  const header = theirs[0];
  const out: string[] = [];
  for (let r = 1; r < theirs.length; r++) {
    header.forEach((column, c) => {
      const [x, y] = [ours[r]?.[c], theirs[r][c]];
      if (x === y) return;
      const numeric = !TEXT_COLUMNS.has(column) && x !== '' && y !== '' && x !== undefined;
      const close = numeric && Math.abs(Number(x) - Number(y)) <= tolerance(column) * Math.max(Math.abs(Number(x)), Math.abs(Number(y)));
      if (!close) out.push(`row ${r} ${column}: ${JSON.stringify(x)} != ${JSON.stringify(y)}`);
    });
  }
  return out;
}

describeIfShared('synth --grid, then run, reproduces the published dataframe', () => {
  test('every column within 1e-9 relative (CKA 1e-6), labels identical', async () => {
    const cwd = tempDir('published');
    const grid = path.join(REFERENCE, 'published/metric_grid_13_13_10_public.npy');
    const synth = await mdpipe(['synth', '--grid', grid, '--out', 'raw/basic', '--config-out', 'mdpipe.config.json'], { cwd });
    expectExit(synth, 0);
    expect(synth.stdout).toMatch(/wrote 1,690 checkpoint folders/);
    expect(synth.stdout).toMatch(/reproduces .*metric_grid_13_13_10_public\.npy: [\d,]+ of 15,210 metric values exact/);

    const run = await mdpipe(['run', '--json'], { cwd });
    expectExit(run, 0);
    expect(parseJson(run)).toMatchObject({ ok: true, executed: 1690 + 4 });

    const ours: string[][] = parse(fs.readFileSync(path.join(cwd, 'out/basic/dataframe.csv'), 'utf8'));
    const theirs: string[][] = parse(fs.readFileSync(path.join(REFERENCE, 'published/dataframe_normal_public.csv'), 'utf8'));
    expect(ours[0]).toEqual(theirs[0]);
    expect(ours).toHaveLength(1 + 1690);
    expect(mismatches(ours, theirs)).toEqual([]);
    // The comparison can fail: a changed cell is caught.
    const tampered = ours.map((row) => [...row]);
    tampered[5][theirs[0].indexOf('CKA')] = String(Number(tampered[5][theirs[0].indexOf('CKA')]) * (1 + 1e-5));
    expect(mismatches(tampered, theirs)).toHaveLength(1);
  }, 120_000);
});
