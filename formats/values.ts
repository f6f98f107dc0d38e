/**
 * The Python values mdpipe's restricted unpickler produces, and the only ones the pickle writer accepts.
 *
 * Python `int` becomes a `number` when it is a safe integer and a `bigint` beyond; Python `float` becomes a
 * `number` (a double, exactly). numpy scalars keep their dtype (`NpScalar`), because SEMANTICS.md's mean is
 * taken in the precision of the values: a float32 CKA entry must stay a float32, not silently become a
 * double.
 */

/** Keys a pickled dict may have here (Python's hashable primitives). */
export type PyKey = string | number | bigint | boolean | null;

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PyDict
  | NpDtype
  | NpScalar
  | NpArray;

export type PyDict = Map<PyKey, PyValue>;

/** A Python tuple; a class (not a bare array) so a reader can tell `(1, 2)` from `[1, 2]`. */
export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
  get length(): number {
    return this.items.length;
  }
}

/** numpy dtype, as its array-protocol string: `<f8`, `<f4`, `<i8`, `<i4`, `|b1`, `|u1`, `|O`. */
export class NpDtype {
  constructor(readonly str: string) {}
  /** Size of one element in bytes (0 for `|O`). */
  get itemsize(): number {
    return this.str === '|O' ? 0 : Number(this.str.slice(2));
  }
}

/** A numpy scalar (`numpy.float32(0.81)`, `numpy.float64(39.9)`, `numpy.int64(3)`). */
export class NpScalar {
  constructor(
    readonly dtype: NpDtype,
    /** float dtypes: the exact value as a double (a float32's value is exactly representable). */
    readonly value: number | bigint | boolean,
  ) {}
}

export type NpData = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint8Array | PyValue[];

/** A numpy array in C order (a Fortran-ordered file is transposed on read). */
export class NpArray {
  constructor(
    readonly dtype: NpDtype,
    readonly shape: readonly number[],
    /** Elements in C order; `|b1` as Uint8Array of 0/1; `|O` as PyValue[]. */
    readonly data: NpData,
  ) {}
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}
