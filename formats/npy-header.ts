/**
 * The header of numpy's .npy format (numpy/lib/format.py): magic, version, length, and a Python dict literal
 * `{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }` padded with spaces and a newline to 64 bytes.
 *
 * Hand-written because numpy evaluates the dict with `ast.literal_eval`; the grammar of the three keys numpy
 * writes is tiny (strings, True/False, a tuple of ints), and a strict parser here rejects anything else instead
 * of evaluating it.
 */
import { asciiOrNull } from './ascii.js';
import { FormatError } from './errors.js';

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
const ALIGN = 64;
/** numpy leaves room for the first axis to grow to 21 digits without rewriting the header. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export interface NpyHeader {
  major: 1 | 2 | 3;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte. */
  dataOffset: number;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads and validates the header; throws `FormatError` naming `file`. */
export function readNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length === 0) throw new FormatError(file, 'empty', 'the file is empty (0 bytes)');
  for (let i = 0; i < NPY_MAGIC.length; i++) {
    if (i >= bytes.length) throw new FormatError(file, 'truncated', `truncated at byte ${bytes.length} (inside the .npy magic string)`, undefined, bytes.length);
    if (bytes[i] !== NPY_MAGIC[i]) {
      throw new FormatError(file, 'bad-magic', `does not start with numpy's magic string \\x93NUMPY: not an .npy file`, 'check that the path names an .npy file written by numpy.save', 0);
    }
  }
  if (bytes.length < 10) throw new FormatError(file, 'truncated', `truncated at byte ${bytes.length} (the .npy version and header length need 10 bytes)`, undefined, bytes.length);
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw new FormatError(file, 'unsupported', `.npy format version ${major}.${minor} (only 1.0, 2.0 and 3.0 are read)`, 'the file needs a newer reader, or re-save it with an older numpy', 6);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start: number;
  let hlen: number;
  if (major === 1) {
    start = 10;
    hlen = view.getUint16(8, true);
  } else {
    if (bytes.length < 12) throw new FormatError(file, 'truncated', `truncated at byte ${bytes.length} (a version ${major}.0 header length needs 12 bytes)`, undefined, bytes.length);
    start = 12;
    hlen = view.getUint32(8, true);
  }
  if (hlen > bytes.length - start) {
    throw new FormatError(file, 'truncated', `truncated at byte ${bytes.length} (the header claims ${hlen} bytes, ${bytes.length - start} left)`, undefined, start);
  }
  let text: string;
  try {
    text = asciiOrNull(bytes, start, start + hlen) ?? (major === 3 ? utf8 : latin1).decode(bytes.subarray(start, start + hlen));
  } catch {
    throw new FormatError(file, 'bad-header', 'the version 3.0 header is not valid UTF-8', undefined, start);
  }
  const fields = parseHeaderDict(text, file, start);
  return { major: major as 1 | 2 | 3, ...fields, dataOffset: start + hlen };
}

/** Parses the dict literal strictly: exactly the keys descr, fortran_order and shape. */
function parseHeaderDict(text: string, file: string, offset: number): Omit<NpyHeader, 'major' | 'dataOffset'> {
  let i = 0;
  const bad: (what: string) => never = (what) => {
    throw new FormatError(file, 'bad-header', `the header ${JSON.stringify(text.trim().slice(0, 120))} is not numpy's: ${what}`, undefined, offset + i);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) bad(`expected '${c}' at character ${i}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') bad(`expected a string at character ${i}`);
    const end = text.indexOf(q, i + 1);
    if (end < 0) bad('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) bad('escapes in strings are not expected');
    i = end + 1;
    return s;
  };
  const value = (): string | boolean | number[] => {
    ws();
    if (text.startsWith('True', i)) return (i += 4), true;
    if (text.startsWith('False', i)) return (i += 5), false;
    if (text[i] === "'" || text[i] === '"') return str();
    if (text[i] === '[') {
      throw new FormatError(file, 'unsupported', 'the array has a structured dtype (a list descr), which is not supported', 'store plain float64/float32/int64/int32/bool/uint8 arrays', offset + i);
    }
    if (text[i] !== '(') bad(`unexpected value at character ${i}`);
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') break;
      const m = /^[0-9]+L?/.exec(text.slice(i, i + 24));
      if (m === null) bad(`expected a dimension at character ${i}`);
      const d = Number(m[0].replace('L', ''));
      if (!Number.isSafeInteger(d)) bad(`dimension ${m[0]} is too large`);
      dims.push(d);
      i += m[0].length;
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') bad(`expected ',' or ')' at character ${i}`);
    }
    i++;
    return dims;
  };

  expect('{');
  const d = new Map<string, string | boolean | number[]>();
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const k = str();
    expect(':');
    if (d.has(k)) bad(`key '${k}' appears twice`);
    d.set(k, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad(`expected ',' or '}' at character ${i}`);
  }
  i++;
  ws();
  if (i !== text.length) bad('text after the closing brace');
  const keys = [...d.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') bad(`keys are {${keys}} instead of exactly descr, fortran_order, shape`);
  const descr = d.get('descr');
  const fortranOrder = d.get('fortran_order');
  const shape = d.get('shape');
  if (typeof descr !== 'string') bad('descr is not a string');
  if (typeof fortranOrder !== 'boolean') bad('fortran_order is not True or False');
  if (!Array.isArray(shape)) bad('shape is not a tuple');
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

/** Python's repr of a tuple of ints: `()`, `(5,)`, `(13, 13, 10)`. */
function reprShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The header bytes numpy's `write_array` writes for a C-ordered array: the same dict text, growth padding,
 * version (the oldest that fits unless given) and 64-byte alignment, byte for byte.
 */
export function formatNpyHeader(descr: string, shape: readonly number[], version?: 1 | 2 | 3): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${reprShape(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  const body = new TextEncoder().encode(dict); // ASCII: descr and digits only
  const v = version ?? (wrappedLength(body.length, 1) - 10 <= 0xffff ? 1 : 2);
  const prefix = v === 1 ? 10 : 12;
  const total = wrappedLength(body.length, v);
  const hlen = total - prefix;
  if (v === 1 && hlen > 0xffff) throw new RangeError(`the .npy header (${hlen} bytes) is too long for format version 1.0`);
  const out = new Uint8Array(total);
  out.set(NPY_MAGIC, 0);
  out[6] = v;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v === 1) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  out.set(body, prefix);
  out.fill(0x20, prefix + body.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

/** Magic + length field + dict + padding + newline, rounded up to a multiple of 64 as numpy does. */
function wrappedLength(dictLen: number, version: number): number {
  const prefix = version === 1 ? 10 : 12;
  const unpadded = prefix + dictLen + 1;
  return unpadded + (ALIGN - (unpadded % ALIGN));
}
