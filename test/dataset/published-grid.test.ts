import { NpArray, NpDtype, type PyValue, writeNpy } from '../../formats/index.js';
import { MetricsStructureError } from '../../dataset/errors.js';
import { PUBLISHED_GRID_METRICS, cellIndex } from '../../dataset/grid.js';
import { readPublishedGrid } from '../../dataset/published-grid.js';

const F8 = new NpDtype('<f8');

/** A published-style grid .npy: a shape-() object array holding the dict, as numpy.save(path, dict) writes. */
function gridNpy(change: (d: Map<string, PyValue>) => void = () => {}): Uint8Array {
  const d = new Map<string, PyValue>([['temp', [16, 32]], ['width', [2, 4, 8]], ['data', ['10', '05']]]);
  PUBLISHED_GRID_METRICS.forEach((name, m) => {
    d.set(name, new NpArray(F8, [2, 3, 2], Float64Array.from({ length: 12 }, (_, i) => 100 * m + i + 0.5)));
  });
  change(d);
  return writeNpy(new NpArray(new NpDtype('|O'), [], [d]));
}

describe('readPublishedGrid', () => {
  test('axes from temp/width/data, metrics in C order, L2 all NaN', () => {
    const g = readPublishedGrid(gridNpy(), 'grid.npy');
    expect(g.axes).toEqual({ bs: [16, 32], width: [2, 4, 8], data: ['10', '05'] });
    expect(g.metrics.test_acc[cellIndex(g.axes, 1, 2, 1)]).toBe(11.5);
    expect(g.metrics.CKA[cellIndex(g.axes, 0, 1, 0)]).toBe(100 * PUBLISHED_GRID_METRICS.indexOf('CKA') + 2.5);
    expect(g.metrics.L2.every(Number.isNaN)).toBe(true);
  });

  test('a missing metric, a wrong shape, a bad axis: MetricsStructureError naming the file', () => {
    const read = (change: (d: Map<string, PyValue>) => void) => () => readPublishedGrid(gridNpy(change), '/pub/grid.npy');
    expect(read((d) => d.delete('hessian_t'))).toThrow(MetricsStructureError);
    expect(read((d) => d.delete('hessian_t'))).toThrow(/\/pub\/grid\.npy: unexpected structure: .* without 'hessian_t' at the top level/);
    expect(read((d) => d.set('CKA', new NpArray(F8, [12], new Float64Array(12))))).toThrow(
      /expected a float64 array of shape \(2, 3, 2\), found a numpy array of shape \(12,\) <f8 at \['CKA'\]/,
    );
    expect(read((d) => d.set('data', [10, 5]))).toThrow(/expected a str, found an int or float \(10\) at \['data'\]\[0\]/);
    expect(read((d) => d.set('temp', [16, 16]))).toThrow(/axis bs lists 16 twice/);
  });
});
