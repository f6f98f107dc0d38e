import { formatNpyHeader } from '../../formats/npy-header.js';
import { readNpy, readNpyObject, writeNpy } from '../../formats/npy.js';
import { OP } from '../../formats/pickle/opcodes.js';
import { rawPickle, writePickle } from '../../formats/pickle/writer.js';
import { NpArray, NpDtype, type PyDict, type PyValue } from '../../formats/values.js';
import { expectFormatError, formatErrorOf } from './support.js';

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** An .npy file with a hand-written header dict (for Fortran order and malformed headers). */
function npyWithHeader(dict: string, data: Uint8Array, version = 1): Uint8Array {
  const prefix = version === 1 ? 10 : 12;
  let text = dict;
  while ((prefix + text.length + 1) % 64 !== 0) text += ' ';
  text += '\n';
  const body = new TextEncoder().encode(text);
  const out = new Uint8Array(prefix + body.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, body.length, true);
  else view.setUint32(8, body.length, true);
  out.set(body, prefix);
  out.set(data, prefix + body.length);
  return out;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const ARRAYS: NpArray[] = [
  new NpArray(new NpDtype('<f8'), [5], Float64Array.of(0, 0.25, NaN, -0, 1e300)),
  new NpArray(new NpDtype('<f4'), [2, 2], Float32Array.of(0.5, Math.fround(0.1), -1, 3)),
  new NpArray(new NpDtype('<i8'), [3], BigInt64Array.of(-1n, 2n ** 62n, 0n)),
  new NpArray(new NpDtype('<i4'), [1, 3, 1], Int32Array.of(-5, 0, 7)),
  new NpArray(new NpDtype('|b1'), [4], Uint8Array.of(1, 0, 0, 1)),
  new NpArray(new NpDtype('|u1'), [2], Uint8Array.of(0, 255)),
  new NpArray(new NpDtype('<f8'), [], Float64Array.of(0.19545172990322113)),
  new NpArray(new NpDtype('<f8'), [0, 3], new Float64Array(0)),
];

describe('writeNpy / readNpy', () => {
  test("the header is numpy's, byte for byte", () => {
    // What numpy 1.24's np.save writes for np.zeros(5): 118-byte header with 21-digit growth room, 128 in all.
    const h = formatNpyHeader('<f8', [5]);
    expect(h.length).toBe(128);
    expect(Buffer.from(h.subarray(0, 10)).toString('hex')).toBe('934e554d505901007600');
    expect(latin1(h.subarray(10))).toBe("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }" + ' '.repeat(60) + '\n');
    expect(latin1(formatNpyHeader('<f8', [13, 13, 10]))).toContain("'shape': (13, 13, 10), }");
    expect(latin1(formatNpyHeader('|O', []))).toContain("{'descr': '|O', 'fortran_order': False, 'shape': (), }      ");
  });

  test.each(ARRAYS.map((a) => [a.dtype.str, a.shape.join('x') || '()', a] as const))('%s %s round-trips in versions 1, 2, 3', (_d, _s, arr) => {
    for (const version of [1, 2, 3] as const) {
      const bytes = writeNpy(arr, { version });
      expect(bytes[6]).toBe(version);
      expect((bytes.length - arr.data.length * arr.dtype.itemsize) % 64).toBe(0);
      expect(readNpy(bytes, `a-v${version}.npy`)).toEqual(arr);
    }
  });

  test('the version is 1.0 unless the header needs more than 64 KiB, then 2.0', () => {
    expect(writeNpy(ARRAYS[0])[6]).toBe(1);
    const manyDims = new Array(30_000).fill(1);
    const arr = new NpArray(new NpDtype('<f8'), manyDims, Float64Array.of(4));
    const bytes = writeNpy(arr);
    expect(bytes[6]).toBe(2);
    expect(readNpy(bytes, 'dims.npy').shape).toHaveLength(30_000);
  });

  test('reading copies the data: the result does not alias the file bytes', () => {
    const bytes = writeNpy(ARRAYS[0]);
    const arr = readNpy(bytes, 'a.npy');
    bytes.fill(0, 128);
    expect((arr.data as Float64Array)[1]).toBe(0.25);
  });

  test('Fortran-ordered data is returned in C order (2-D and 3-D)', () => {
    // [[1, 2, 3], [4, 5, 6]] stored column by column.
    const f2 = npyWithHeader("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }", bytesOf(Int32Array.of(1, 4, 2, 5, 3, 6)));
    expect(Array.from(readNpy(f2, 'f2.npy').data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6]);

    // a[i][j][k] = 100i + 10j + k for shape (2, 3, 4); Fortran order varies i fastest.
    const shape = [2, 3, 4];
    const fortran: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortran.push(100 * i + 10 * j + k);
    const f3 = npyWithHeader("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3, 4), }", bytesOf(Float64Array.from(fortran)));
    const c = readNpy(f3, 'f3.npy');
    expect(c.shape).toEqual(shape);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    expect(Array.from(c.data as Float64Array)).toEqual(expected);
  });

  test('old Python 2 headers (5L dimensions, double quotes) are read', () => {
    const b = npyWithHeader('{"descr": "<f8", "fortran_order": False, "shape": (2L,)}', bytesOf(Float64Array.of(1, 2)));
    expect(readNpy(b, 'py2.npy').shape).toEqual([2]);
  });
});

describe('object arrays (|O): a pickled payload', () => {
  test('a shape-() object array holding a dict, as the published grid and dictionary files', () => {
    const grid: PyDict = new Map<string, PyValue>([
      ['temp', [16, 24, 32]],
      ['test_acc', new NpArray(new NpDtype('<f8'), [1, 1, 2], Float64Array.of(53.19, NaN))],
    ]);
    const bytes = writeNpy(new NpArray(new NpDtype('|O'), [], [grid]));
    expect(latin1(bytes.subarray(0, 128))).toContain("'descr': '|O'");
    expect(bytes[128]).toBe(OP.PROTO);
    expect(bytes[129]).toBe(3);
    expect(readNpyObject(bytes, 'grid.npy')).toEqual(grid);
  });

  test('an object array of shape (2,)', () => {
    const arr = new NpArray(new NpDtype('|O'), [2], ['a', new Map([[1, 2]])]);
    expect(readNpy(writeNpy(arr), 'o.npy')).toEqual(arr);
  });

  test('readNpyObject refuses anything but a single object', () => {
    expect(expectFormatError(() => readNpyObject(writeNpy(ARRAYS[0]), 'f.npy'), 'bad-structure').message).toContain('not a single pickled object');
    const two = new NpArray(new NpDtype('|O'), [2], [1, 2]);
    expectFormatError(() => readNpyObject(writeNpy(two), 'two.npy'), 'bad-structure');
  });

  test('the payload pickle gets the same restrictions: a forbidden global is refused', () => {
    const header = formatNpyHeader('|O', []);
    const evil = rawPickle(OP.PROTO, 3, OP.GLOBAL, 'os\nsystem\n', OP.SHORT_BINUNICODE, 2, 'ls', 0x85, OP.REDUCE, OP.STOP);
    const e = expectFormatError(() => readNpyObject(Buffer.concat([header, evil]), 'evil.npy'), 'forbidden-global');
    expect(e.message).toContain('os.system');
  });

  test('a payload that is not an object array, or of another shape, is bad-structure', () => {
    const header = formatNpyHeader('|O', []);
    expectFormatError(() => readNpy(Buffer.concat([header, writePickle(new Map())]), 'dict.npy'), 'bad-structure');
    const shaped = writePickle(new NpArray(new NpDtype('|O'), [1], [1]));
    expect(expectFormatError(() => readNpy(Buffer.concat([header, shaped]), 'shape.npy'), 'bad-structure').message).toContain('shape');
  });
});

describe('malformed .npy files', () => {
  const good = writeNpy(ARRAYS[0]);

  test('empty, wrong magic, unsupported version', () => {
    expectFormatError(() => readNpy(new Uint8Array(0), 'e.npy'), 'empty');
    expectFormatError(() => readNpy(new TextEncoder().encode('NUMPY and more text'), 'm.npy'), 'bad-magic');
    expectFormatError(() => readNpy(writePickle([1]), 'p.npy'), 'bad-magic');
    const v4 = good.slice();
    v4[6] = 4;
    expect(expectFormatError(() => readNpy(v4, 'v4.npy'), 'unsupported').message).toContain('4.0');
  });

  test('every prefix is empty or truncated', () => {
    const reasons = new Set<string>();
    for (let len = 0; len < good.length; len++) reasons.add(formatErrorOf(() => readNpy(good.subarray(0, len), 'p.npy')).reason);
    expect([...reasons].sort()).toEqual(['empty', 'truncated']);
  });

  test('every prefix of an object-array file is empty or truncated', () => {
    const obj = writeNpy(new NpArray(new NpDtype('|O'), [], [new Map([['a', [1.5, 'x']]])]));
    for (let len = 0; len < obj.length; len++) {
      expect(['empty', 'truncated']).toContain(formatErrorOf(() => readNpy(obj.subarray(0, len), 'p.npy')).reason);
    }
  });

  test('truncated data names the sizes; trailing bytes are bad-structure', () => {
    const e = expectFormatError(() => readNpy(good.subarray(0, good.length - 1), 't.npy'), 'truncated');
    expect(e.message).toContain('needs 40 data bytes, 39 present');
    expectFormatError(() => readNpy(Buffer.concat([good, Uint8Array.of(0)]), 'x.npy'), 'bad-structure');
  });

  test('a header shape far larger than the file is truncated, not an allocation', () => {
    const huge = npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000000,), }", new Uint8Array(8));
    expectFormatError(() => readNpy(huge, 'huge.npy'), 'truncated');
  });

  test.each([
    ['not a dict', "['descr', '<f8']"],
    ['a missing key', "{'descr': '<f8', 'shape': (5,), }"],
    ['an extra key', "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), 'x': 1, }"],
    ['a repeated key', "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"],
    ['a shape that is not a tuple', "{'descr': '<f8', 'fortran_order': False, 'shape': 5, }"],
    ['a negative dimension', "{'descr': '<f8', 'fortran_order': False, 'shape': (-5,), }"],
    ['fortran_order not a bool', "{'descr': '<f8', 'fortran_order': 0, 'shape': (5,), }"],
    ['code', "{'descr': __import__('os').system('ls'), 'fortran_order': False, 'shape': (5,), }"],
    ['text after the dict', "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), } x"],
  ])('a header with %s is bad-header', (_label, dict) => {
    expectFormatError(() => readNpy(npyWithHeader(dict, new Uint8Array(40)), 'h.npy'), 'bad-header');
  });

  test.each([
    ['>f8', 'big-endian'],
    ['<c16', '<c16'],
    ['<U5', '<U5'],
    ['<f2', '<f2'],
  ])('dtype %s is unsupported, naming it', (descr, mention) => {
    const e = expectFormatError(() => readNpy(npyWithHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(16)), 'd.npy'), 'unsupported');
    expect(e.message).toContain(mention);
  });

  test('a structured dtype (list descr) is unsupported', () => {
    const b = npyWithHeader("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    expectFormatError(() => readNpy(b, 's.npy'), 'unsupported');
  });

  test('a version 3.0 header with invalid UTF-8 is bad-header', () => {
    const b = npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8), 3);
    b[14] = 0xff;
    expectFormatError(() => readNpy(b, 'u.npy'), 'bad-header');
  });
});
