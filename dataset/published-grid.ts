/**
 * Reads the published grid `.npy` (`metric_grid_13_13_10_public.npy` of the MD tree repository) into a
 * Grid, so a published collection can be exported like a raw one.
 */
import { NpArray, NpScalar, type PyValue, readNpyObject } from '../formats/index.js';
import { DatasetInputError } from './errors.js';
import { PUBLISHED_GRID_METRICS, checkAxes, emptyGrid, type Axes, type Grid } from './grid.js';
import { PyPlace, describePy, expectDict, expectKey, expectSequence } from './py-inspect.js';

/**
 * Reads a published grid `.npy` (a pickled dict: axes `temp` (batch sizes), `width`, `data` as lists,
 * and one float64 array of shape (|temp|, |width|, |data|) per metric). L2 is not published: its grid is
 * all NaN.
 * @throws FormatError from the reader; MetricsStructureError if the dict is not shaped like that
 */
export function readPublishedGrid(bytes: Uint8Array, file: string): Grid {
  const top = new PyPlace(file, "{'temp': [int], 'width': [int], 'data': [str], '<metric>': float64 array (temp, width, data), ...}");
  const d = expectDict(readNpyObject(bytes, file), top);
  const axes: Axes = {
    bs: intList(expectKey(d, 'temp', top), top.at('temp')),
    width: intList(expectKey(d, 'width', top), top.at('width')),
    data: strList(expectKey(d, 'data', top), top.at('data')),
  };
  try {
    checkAxes(axes);
  } catch (e) {
    if (e instanceof DatasetInputError) throw top.fail(e.problem, 'axes without repeated values');
    throw e;
  }
  const grid = emptyGrid(axes);
  const shape = [axes.bs.length, axes.width.length, axes.data.length];
  for (const name of PUBLISHED_GRID_METRICS) {
    const at = top.at(name);
    const arr = expectKey(d, name, top);
    const ok = arr instanceof NpArray && (arr.dtype.str === '<f8' || arr.dtype.str === '<f4') &&
      arr.shape.length === 3 && arr.shape.every((s, i) => s === shape[i]);
    if (!ok) throw at.fail(describePy(arr), `a float64 array of shape (${shape.join(', ')})`);
    grid.metrics[name].set((arr as NpArray).data as Float64Array | Float32Array);
  }
  return grid;
}

function intList(v: PyValue, place: PyPlace): number[] {
  const seq = expectSequence(v, place, 'a list of ints');
  const out: number[] = [];
  for (let i = 0; i < seq.length; i++) {
    const x = seq.get(i);
    const n = typeof x === 'number' || typeof x === 'bigint' ? Number(x) : x instanceof NpScalar && typeof x.value !== 'boolean' ? Number(x.value) : NaN;
    if (!Number.isInteger(n)) throw place.at(i).fail(describePy(x), 'an int');
    out.push(n);
  }
  return out;
}

function strList(v: PyValue, place: PyPlace): string[] {
  const seq = expectSequence(v, place, 'a list of str');
  const out: string[] = [];
  for (let i = 0; i < seq.length; i++) {
    const x = seq.get(i);
    if (typeof x !== 'string') throw place.at(i).fail(describePy(x), 'a str');
    out.push(x);
  }
  return out;
}
