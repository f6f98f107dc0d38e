/**
 * numpy dtypes and array data as mdpipe supports them, shared by the pickle, .npy and .npz code: the dtype
 * table, raw little-endian bytes to typed arrays and back, and Fortran-to-C reordering.
 */
import { UnwritableValueError } from './errors.js';
import { NpArray, NpDtype, type NpData, type PyValue } from './values.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Typed arrays use the platform's byte order and every supported file is little-endian.
  throw new Error('mdpipe formats: this platform is big-endian; only little-endian platforms are supported');
}

/** One supported dtype and how numpy spells it in its different places. */
export interface DtypeSpec {
  /** The array-protocol string, as in an .npy header: `<f8`, `|b1`, `|O`. */
  readonly str: string;
  /** The canonical `NpDtype` instance the readers return for it. */
  readonly dtype: NpDtype;
  /** Bytes per element (0 for `|O`). */
  readonly itemsize: number;
  /** What `numpy.dtype.__reduce__` passes to `numpy.dtype(...)`: `f8`, `b1`, `O8`. */
  readonly reduceName: string;
  /** The byte-order character of numpy's pickled dtype state: `<` or `|`. */
  readonly stateOrder: '<' | '|';
  /** The flags field of numpy's pickled dtype state (63 for object dtypes, 0 otherwise). */
  readonly stateFlags: number;
}

const SPECS: DtypeSpec[] = [
  ['<f8', 8, 'f8', '<', 0],
  ['<f4', 4, 'f4', '<', 0],
  ['<i8', 8, 'i8', '<', 0],
  ['<i4', 4, 'i4', '<', 0],
  ['|b1', 1, 'b1', '|', 0],
  ['|u1', 1, 'u1', '|', 0],
  ['|O', 0, 'O8', '|', 63],
].map(([str, itemsize, reduceName, stateOrder, stateFlags]) => ({
  str: str as string,
  dtype: new NpDtype(str as string),
  itemsize: itemsize as number,
  reduceName: reduceName as string,
  stateOrder: stateOrder as '<' | '|',
  stateFlags: stateFlags as number,
}));

const BY_STR = new Map(SPECS.map((s) => [s.str, s]));
const BY_REDUCE_NAME = new Map(SPECS.map((s) => [s.reduceName, s]));
BY_REDUCE_NAME.set('O4', BY_STR.get('|O')!); // object dtype as pickled on a 32-bit platform

/** The supported dtype strings, for error messages. */
export const SUPPORTED_DTYPES = SPECS.map((s) => s.str).join(', ');

/** The spec of a dtype string as found in an .npy header (`<f8`), or undefined when unsupported. */
export function dtypeSpec(str: string): DtypeSpec | undefined {
  return BY_STR.get(str);
}

/**
 * The spec for the first argument of a pickled `numpy.dtype(...)` call (`f8`, `O8`, also `<f8`), or undefined
 * when unsupported. Big-endian names (`>f8`) are unsupported.
 */
export function dtypeSpecFromReduceName(name: string): DtypeSpec | undefined {
  const direct = BY_REDUCE_NAME.get(name);
  if (direct !== undefined) return direct;
  const order = name[0];
  if (order === '<' || order === '|' || order === '=') return BY_REDUCE_NAME.get(name.slice(1));
  return undefined;
}

/** The spec of an `NpDtype` (any instance with a supported `str`), or undefined. */
export function specOf(dtype: NpDtype): DtypeSpec | undefined {
  return BY_STR.get(dtype.str);
}

/** Number of elements of a shape (1 for `()`). */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/**
 * Copies `raw` (little-endian, `count` elements of `spec`) into a fresh typed array. Copying keeps the result
 * aligned and independent of the file's buffer. Bools become 0/1 whatever non-zero byte the file held.
 */
export function decodeRawData(spec: DtypeSpec, raw: Uint8Array): Exclude<NpData, PyValue[]> {
  // new Uint8Array(view) copies; raw.slice() would not copy when raw is a Node Buffer.
  const copy = new Uint8Array(raw);
  switch (spec.str) {
    case '<f8':
      return new Float64Array(copy.buffer);
    case '<f4':
      return new Float32Array(copy.buffer);
    case '<i8':
      return new BigInt64Array(copy.buffer);
    case '<i4':
      return new Int32Array(copy.buffer);
    case '|b1':
      for (let i = 0; i < copy.length; i++) if (copy[i] !== 0) copy[i] = 1;
      return copy;
    case '|u1':
      return copy;
    default:
      throw new Error(`decodeRawData: ${spec.str} has no raw representation`);
  }
}

type Indexable<T> = { length: number; [i: number]: T };

/**
 * Reorders elements stored in Fortran (column-major) order into C (row-major) order.
 * Returns the input unchanged when the order cannot differ (0 or 1 dimensions).
 */
export function fortranToC<T extends Indexable<unknown>>(src: T, shape: readonly number[]): T {
  const nd = shape.length;
  if (nd <= 1) return src;
  const size = shapeSize(shape);
  const out = (Array.isArray(src) ? new Array(size) : new (src.constructor as new (n: number) => T)(size)) as T;
  if (size === 0) return out;
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < size; c++) {
    out[c] = src[f];
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]++;
      f += fStride[k];
      if (idx[k] < shape[k]) break;
      f -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/**
 * Typed arrays are recognised by their tag, not `instanceof`: values decoded by the engine (v8
 * deserialisation) or made in another realm (a worker, jest's VM) have another realm's constructors.
 */
const isTyped = (tag: string) => (d: unknown) => ArrayBuffer.isView(d) && Object.prototype.toString.call(d) === `[object ${tag}]`;

const DATA_CLASS: Record<string, { name: string; test: (d: unknown) => boolean }> = {
  '<f8': { name: 'Float64Array', test: isTyped('Float64Array') },
  '<f4': { name: 'Float32Array', test: isTyped('Float32Array') },
  '<i8': { name: 'BigInt64Array', test: isTyped('BigInt64Array') },
  '<i4': { name: 'Int32Array', test: isTyped('Int32Array') },
  '|b1': { name: 'Uint8Array of 0/1', test: isTyped('Uint8Array') },
  '|u1': { name: 'Uint8Array', test: isTyped('Uint8Array') },
  '|O': { name: 'an Array of values', test: (d) => Array.isArray(d) },
};

/**
 * Checks that a caller-built array is consistent (supported dtype, data class matching it, length matching the
 * shape) before a writer serialises it, and returns its dtype spec.
 */
export function checkWritableArray(arr: NpArray, path: string): DtypeSpec {
  const spec = specOf(arr.dtype);
  if (spec === undefined) {
    throw new UnwritableValueError(path, `dtype ${arr.dtype.str} is not supported (supported: ${SUPPORTED_DTYPES})`);
  }
  for (const d of arr.shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new UnwritableValueError(path, `shape (${arr.shape.join(', ')}) must hold non-negative integers`);
    }
  }
  const cls = DATA_CLASS[spec.str];
  if (!cls.test(arr.data)) {
    throw new UnwritableValueError(path, `dtype ${spec.str} needs its data as ${cls.name}`);
  }
  const size = shapeSize(arr.shape);
  if (arr.data.length !== size) {
    throw new UnwritableValueError(path, `shape (${arr.shape.join(', ')}) has ${size} elements but data has ${arr.data.length}`);
  }
  return spec;
}

/** The raw little-endian bytes of a (checked) non-object array, in C order, without copying. */
export function rawBytesOf(arr: NpArray): Uint8Array {
  const d = arr.data as Exclude<NpData, PyValue[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}
