/**
 * numpy's .npy files (format versions 1.0, 2.0 and 3.0): read into `NpArray`s and written byte for byte as
 * `numpy.save` writes them. Object arrays (`|O`) hold a pickle of the array itself, read with the same
 * restricted unpickler as .pkl files.
 *
 * Hand-written rather than taken from a library: the npm npy readers (e.g. `npyjs`) do not read object
 * arrays, Fortran order or version 3 headers, and do not write; the format is a header plus raw data.
 */
import { FormatError } from './errors.js';
import { resolveLimits, type ReadLimits } from './limits.js';
import { checkWritableArray, decodeRawData, dtypeSpec, fortranToC, rawBytesOf, SUPPORTED_DTYPES } from './ndarray.js';
import { formatNpyHeader, readNpyHeader } from './npy-header.js';
import { parsePickle } from './pickle/reader.js';
import { writePickle } from './pickle/writer.js';
import { NpArray, type PyValue } from './values.js';

/**
 * Reads an .npy file. Supported dtypes: `<f8`, `<f4`, `<i8`, `<i4`, `|b1`, `|u1` and `|O`; anything else
 * (including big-endian data) is `FormatError('unsupported')`. Fortran-ordered data is returned in C order.
 * The data must end exactly where the file ends (a short file is `truncated`, extra bytes `bad-structure`).
 *
 * @param file  the path as the user knows it, for messages
 * @param limits bounds for the pickle of an object array and for the bytes allocated
 */
export function readNpy(bytes: Uint8Array, file: string, limits?: Partial<ReadLimits>): NpArray {
  const header = readNpyHeader(bytes, file);
  const spec = dtypeSpec(header.descr);
  if (spec === undefined) {
    const bigEndian = header.descr.startsWith('>') ? ' (big-endian)' : '';
    throw new FormatError(file, 'unsupported', `dtype ${header.descr}${bigEndian} is not supported (supported: ${SUPPORTED_DTYPES})`,
      'convert the array with numpy (e.g. a.astype("<f8")) and save it again', 0);
  }
  const { shape, dataOffset } = header;
  if (spec.itemsize === 0) return readObjectPayload(bytes, file, limits, header.shape, dataOffset);

  let size = 1;
  for (const d of shape) size *= d;
  const need = size * spec.itemsize;
  const have = bytes.length - dataOffset;
  if (have < need) {
    throw new FormatError(file, 'truncated', `truncated at byte ${bytes.length} (a ${spec.str} array of shape (${shape.join(', ')}) needs ${need} data bytes, ${have} present)`, undefined, bytes.length);
  }
  if (have > need) {
    throw new FormatError(file, 'bad-structure', `${have - need} bytes follow the array data (the header describes ${need} bytes)`, undefined, dataOffset + need);
  }
  const maxBytes = resolveLimits(limits).maxBytes;
  if (need > maxBytes) {
    throw new FormatError(file, 'limit-exceeded', `the array holds ${need} bytes (limit maxBytes = ${maxBytes})`, 'pass a larger maxBytes in the limits argument if the file really is this large', dataOffset);
  }
  const data = decodeRawData(spec, bytes.subarray(dataOffset));
  return new NpArray(spec.dtype, shape, header.fortranOrder ? fortranToC(data, shape) : data);
}

function readObjectPayload(bytes: Uint8Array, file: string, limits: Partial<ReadLimits> | undefined, shape: number[], at: number): NpArray {
  const { value, end } = parsePickle(bytes, file, limits, at);
  if (!(value instanceof NpArray) || value.dtype.str !== '|O') {
    throw new FormatError(file, 'bad-structure', `the header says object array but the pickled payload is not one`, undefined, at);
  }
  if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
    throw new FormatError(file, 'bad-structure', `the header says shape (${shape.join(', ')}) but the pickled array has shape (${value.shape.join(', ')})`, undefined, at);
  }
  if (end !== bytes.length) {
    throw new FormatError(file, 'bad-structure', `${bytes.length - end} bytes follow the pickled object array`, undefined, end);
  }
  return value;
}

/**
 * Reads an .npy file holding one Python object (a shape-() `|O` array, as `numpy.save(path, some_dict)`
 * writes) and returns that object: the published grid and dictionary files are of this kind.
 */
export function readNpyObject(bytes: Uint8Array, file: string, limits?: Partial<ReadLimits>): PyValue {
  const arr = readNpy(bytes, file, limits);
  if (arr.dtype.str !== '|O' || arr.shape.length !== 0) {
    throw new FormatError(file, 'bad-structure', `holds a ${arr.dtype.str} array of shape (${arr.shape.join(', ')}), not a single pickled object`,
      'read it with readNpy, or check that the path names the right file');
  }
  return (arr.data as PyValue[])[0];
}

export interface WriteNpyOptions {
  /** Format version; by default the oldest that fits the header (1.0 unless the header exceeds 64 KiB). */
  version?: 1 | 2 | 3;
}

/**
 * The bytes `numpy.save` writes for `arr` (C order). Object arrays are written as numpy does, as a protocol-3
 * pickle of the array; loading those in numpy needs `allow_pickle=True`.
 */
export function writeNpy(arr: NpArray, opts: WriteNpyOptions = {}): Uint8Array {
  const spec = checkWritableArray(arr, '');
  const header = formatNpyHeader(spec.str, arr.shape, opts.version);
  const payload = spec.itemsize === 0 ? writePickle(arr, { protocol: 3 }) : rawBytesOf(arr);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}
