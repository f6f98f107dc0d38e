/**
 * Checked access to unpickled Python values for the dataset code: each accessor either returns the part
 * asked for or throws a MetricsStructureError that names the file, the place in it (Python-style, so a
 * person can look with `pickle.load`), what was expected and what was found.
 */
import { NpArray, NpDtype, NpScalar, PyTuple, type PyDict, type PyKey, type PyValue } from '../formats/index.js';
import { MetricsStructureError } from './errors.js';

/** A float as numpy would hold it: `f32` when it is a numpy float32 (means of these are taken in float32). */
export interface PyFloat {
  value: number;
  f32: boolean;
}

/** A place in a file: the file, what the whole file should look like, and the keys walked so far. */
export class PyPlace {
  /** Set by `at`: the place one key up, and that key. */
  #parent: PyPlace | undefined;
  #key: PyKey = null;

  /**
   * @param path the keys from the top of the file to a place made here. A place made by `at` keeps only
   *   its parent and its key, and its path is spelled out only for an error: a metric file's values are
   *   visited ~75 at a time, 3,380 files per build, and copying the path at every step allocated ~150 MB
   *   of a cold build.
   */
  constructor(
    readonly file: string,
    /** The expected structure of the whole file, quoted in every error (`{seed: {'accuracy': float}}`). */
    readonly expected: string,
    private readonly path: readonly PyKey[] = [],
  ) {}

  /** The place one key deeper. */
  at(key: PyKey): PyPlace {
    const place = new PyPlace(this.file, this.expected);
    place.#parent = this;
    place.#key = key;
    return place;
  }

  /** The keys from the top of the file to here. */
  get keys(): readonly PyKey[] {
    return this.#parent ? [...this.#parent.keys, this.#key] : this.path;
  }

  /** `at the top level` or `at [0]['accuracy']`. */
  get where(): string {
    const keys = this.keys;
    return keys.length === 0 ? 'at the top level' : `at ${keys.map((k) => `[${pyRepr(k)}]`).join('')}`;
  }

  /** An error at this place; `what` overrides the file-level expectation when a narrower one helps. */
  fail(found: string, what?: string): MetricsStructureError {
    return new MetricsStructureError(this.file, what ?? this.expected, found, this.where);
  }
}

/** Python's spelling of a dict key, for messages. */
function pyRepr(key: PyKey): string {
  if (typeof key === 'string') return `'${key}'`;
  if (key === null) return 'None';
  if (typeof key === 'boolean') return key ? 'True' : 'False';
  return String(key);
}

/** A short description of a value, for "found ...". */
export function describePy(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'a bool';
  if (typeof v === 'number') return Number.isInteger(v) ? `an int or float (${v})` : `a float (${v})`;
  if (typeof v === 'bigint') return `an int (${v})`;
  if (typeof v === 'string') return `a str '${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  if (v instanceof Uint8Array) return `bytes (${v.length})`;
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : `a list of ${v.length}`;
  if (v instanceof PyTuple) return `a tuple of ${v.length}`;
  if (v instanceof Map) {
    if (v.size === 0) return 'an empty dict';
    const keys = [...v.keys()].slice(0, 4).map(pyRepr).join(', ');
    return `a dict with keys ${keys}${v.size > 4 ? ', ...' : ''}`;
  }
  if (v instanceof NpScalar) return `a numpy ${v.dtype.str} scalar`;
  if (v instanceof NpArray) return `a numpy array of shape (${v.shape.join(', ')}${v.shape.length === 1 ? ',' : ''}) ${v.dtype.str}`;
  if (v instanceof NpDtype) return `a numpy dtype ${v.str}`;
  return 'an unknown value';
}

/** The value as a dict, or an error at `place`. */
export function expectDict(v: PyValue, place: PyPlace, what?: string): PyDict {
  if (v instanceof Map) return v;
  throw place.fail(describePy(v), what);
}

/** `dict[key]`, or an error saying the key is missing (and which keys there are). */
export function expectKey(dict: PyDict, key: string, place: PyPlace, what?: string): PyValue {
  const v = dict.get(key);
  if (v === undefined) throw place.fail(`${describePy(dict)} without ${pyRepr(key)}`, what);
  return v;
}

/** The value as a float (Python int or float, numpy int or float scalar), or an error. */
export function expectFloat(v: PyValue, place: PyPlace, what?: string): PyFloat {
  if (typeof v === 'number') return { value: v, f32: false };
  if (typeof v === 'bigint') return { value: Number(v), f32: false };
  if (v instanceof NpScalar && typeof v.value !== 'boolean' && v.dtype.str !== '|b1') {
    return { value: Number(v.value), f32: v.dtype.str === '<f4' || v.dtype.str === '>f4' };
  }
  throw place.fail(describePy(v), what);
}

/** Elements of a list, tuple or 1-D numpy array (as Python values), or an error. Not copied where possible. */
export function expectSequence(v: PyValue, place: PyPlace, what?: string): { length: number; get(i: number): PyValue } {
  if (Array.isArray(v)) return { length: v.length, get: (i) => v[i] };
  if (v instanceof PyTuple) return { length: v.length, get: (i) => v.items[i] };
  if (v instanceof NpArray && v.shape.length === 1) {
    const data = v.data;
    const dtype = v.dtype;
    return {
      length: v.shape[0],
      get: (i) => {
        const x = data[i];
        if (typeof x === 'number' || typeof x === 'bigint') return new NpScalar(dtype, x);
        return x as PyValue;
      },
    };
  }
  throw place.fail(describePy(v), what);
}

/** A seed key: a Python int. */
export function isSeedKey(key: PyKey): boolean {
  return (typeof key === 'number' && Number.isInteger(key)) || typeof key === 'bigint';
}
