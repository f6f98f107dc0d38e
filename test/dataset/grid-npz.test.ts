import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpz } from '../../formats/index.js';
import { gridNpzArrays, readGridNpz, writeGridNpz } from '../../dataset/grid-npz.js';
import { cellIndex } from '../../dataset/grid.js';
import { METRIC_NAMES } from '../../dataset/metrics.js';
import { tinyGrid } from './fixtures.js';

function grid() {
  const g = tinyGrid();
  g.metrics.L2[cellIndex(g.axes, 1, 1, 1)] = 44.25;
  return g;
}

describe('grid.npz', () => {
  test('one float64 (bs, width, data) array per metric, int64 axes', () => {
    const arrays = gridNpzArrays(grid());
    expect([...arrays.keys()]).toEqual([...METRIC_NAMES, 'bs', 'width', 'data']);
    for (const m of METRIC_NAMES) {
      expect(arrays.get(m)!.dtype.str).toBe('<f8');
      expect(arrays.get(m)!.shape).toEqual([2, 2, 2]);
    }
    expect(arrays.get('data')!.dtype.str).toBe('<i8');
    expect(Array.from(arrays.get('data')!.data as BigInt64Array)).toEqual([10n, 5n]);
  });

  test.each([true, false])('round-trips through readNpz (compress %p)', (compress) => {
    const g = grid();
    const back = readNpz(writeGridNpz(g, { compress }), 'grid.npz', {});
    let compared = 0;
    for (const m of METRIC_NAMES) {
      const a = back.get(m)!;
      expect(a.shape).toEqual([2, 2, 2]);
      expect(Array.from(a.data as Float64Array)).toEqual(Array.from(g.metrics[m]));
      compared++;
    }
    expect(compared).toBe(METRIC_NAMES.length);
    expect(Array.from(back.get('bs')!.data as BigInt64Array)).toEqual([16n, 32n]);
    expect(Array.from(back.get('width')!.data as BigInt64Array)).toEqual([2n, 4n]);
  });

  test('readGridNpz gives the same grid back (NaN and -0.0 included)', () => {
    const g = grid();
    const back = readGridNpz(writeGridNpz(g), 'grid.npz');
    expect(back.axes).toEqual(g.axes);
    for (const m of METRIC_NAMES) expect(back.metrics[m]).toEqual(g.metrics[m]);
    expect(Object.is(back.metrics.mode_connectivity_peak[0], -0)).toBe(true);
  });

  const python = spawnSync('/usr/bin/python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  const hasNumpy = python.status === 0;
  if (!hasNumpy) process.stderr.write('skipping the numpy load check: /usr/bin/python3 with numpy absent\n');
  (hasNumpy ? test : test.skip)('loads in numpy without allow_pickle (optional)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdpipe-grid-npz-'));
    try {
      const file = join(dir, 'grid.npz');
      writeFileSync(file, writeGridNpz(grid()));
      const script = [
        'import numpy as np, sys, json',
        'z = np.load(sys.argv[1])', // allow_pickle defaults to False
        'print(json.dumps({k: [str(z[k].dtype), list(z[k].shape)] for k in z.files}))',
        'print(repr(float(z["test_acc"][1, 1, 1])), repr(float(z["L2"][1, 1, 1])), int(np.isnan(z["CKA"]).sum()), z["data"].tolist())',
      ].join('\n');
      const out = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      const [shapes, values] = out.stdout.trim().split('\n');
      const parsed = JSON.parse(shapes);
      expect(parsed.test_acc).toEqual(['float64', [2, 2, 2]]);
      expect(parsed.bs).toEqual(['int64', [2]]);
      expect(values).toBe('65.0 44.25 8 [10, 5]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
