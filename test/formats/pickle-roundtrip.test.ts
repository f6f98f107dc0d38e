import { OP } from '../../formats/pickle/opcodes.js';
import { readPickle } from '../../formats/pickle/reader.js';
import { PyFloat, writePickle, type PickleInput } from '../../formats/pickle/writer.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyDict, type PyValue } from '../../formats/values.js';

const F8 = new NpDtype('<f8');
const F4 = new NpDtype('<f4');
const I8 = new NpDtype('<i8');
const PROTOCOLS = [2, 3, 4, 5] as const;
const MODULES = ['numpy.core', 'numpy._core'] as const;

/** The opcodes of a pickle, walking the arguments of the few the writer emits (for counting, not parsing). */
function countOp(bytes: Uint8Array, op: number): number {
  return bytes.filter((b) => b === op).length;
}

/** A structure shaped like the real files: int-keyed seeds, string keys, lists of numpy float32/float64. */
function realShaped(): PyDict {
  const seeds: PyDict = new Map();
  for (let s = 0; s < 5; s++) {
    const inner: PyDict = new Map();
    for (let t = 0; t < 5; t++) {
      inner.set(t, [new NpScalar(F4, Math.fround(0.1 * (s + t))), new NpScalar(F4, Math.fround(0.8 + s / 100))]);
    }
    seeds.set(s, inner);
  }
  return new Map<string, PyValue>([
    ['representation_similarity', seeds],
    ['trace', new NpScalar(F8, 58.54216521126883)],
    ['top_eigenvalue', [2.861771821975708]],
    ['accuracy', 86.53],
  ]);
}

describe('pickle round trip (writePickle -> readPickle)', () => {
  for (const protocol of PROTOCOLS) {
    for (const numpyModule of MODULES) {
      test(`protocol ${protocol}, ${numpyModule}: real-shaped nested dict with int keys and numpy scalars`, () => {
        const value = realShaped();
        const bytes = writePickle(value, { protocol, numpyModule });
        expect(bytes[0]).toBe(OP.PROTO);
        expect(bytes[1]).toBe(protocol);
        expect(readPickle(bytes, 'mem.pkl')).toEqual(value);
      });
    }
  }

  test.each(PROTOCOLS)('protocol %i: every plain Python type', (protocol) => {
    const value: PyValue = new Map<string | number | bigint | boolean | null, PyValue>([
      ['none', null],
      ['bools', [true, false]],
      ['ints', [0, 1, 255, 256, 65535, 65536, -1, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53 - 1)]],
      ['big', [2n ** 64n, -(2n ** 64n), 2n ** 63n - 1n, -(2n ** 2100n) + 7n]],
      ['floats', [0.5, -0.0, 1e-300, Number.MAX_VALUE, Infinity, -Infinity, NaN]],
      ['strs', ['', 'ascii', 'ünïcødé ✓ 𝄞', 'x'.repeat(300)]],
      ['bytes', [new Uint8Array(0), Uint8Array.of(0, 255, 128, 10), new Uint8Array(300).fill(7)]],
      ['tuples', [new PyTuple([]), new PyTuple([1]), new PyTuple([1, 2]), new PyTuple([1, 2, 3]), new PyTuple([1, 2, 3, 4, 'five'])]],
      [7, 'int key'],
      [-(3n ** 50n), 'bigint key'],
      [true, 'bool key'],
      [null, 'None key'],
      [2.5, 'float key'],
    ]);
    const back = readPickle(writePickle(value, { protocol }), 'mem.pkl') as PyDict;
    expect(back).toEqual(value);
    // -0.0 survives as a float (toEqual treats 0 and -0 as different, but be explicit).
    expect(Object.is((back.get('floats') as number[])[1], -0)).toBe(true);
    // A tuple stays a tuple and a list stays a list.
    expect((back.get('tuples') as PyValue[])[2]).toBeInstanceOf(PyTuple);
    expect(Array.isArray(back.get('bools'))).toBe(true);
  });

  test.each(PROTOCOLS)('protocol %i: float32 scalars keep their exact float32 value and dtype', (protocol) => {
    const values = [0.1, 1 / 3, 0.8142556548118591, 3.4028234663852886e38, 1.401298464324817e-45].map(Math.fround);
    const back = readPickle(writePickle(values.map((v) => new NpScalar(F4, v)), { protocol }), 'f4.pkl') as NpScalar[];
    back.forEach((s, i) => {
      expect(s).toBeInstanceOf(NpScalar);
      expect(s.dtype.str).toBe('<f4');
      expect(s.value).toBe(values[i]);
    });
    expect(back[0].value).toBe(Math.fround(0.1));
    expect(back[0].value).not.toBe(0.1);
  });

  test.each(PROTOCOLS)('protocol %i: NaN entries in float32 and float64 scalars and arrays', (protocol) => {
    const value: PyValue = [
      new NpScalar(F4, NaN),
      new NpScalar(F8, NaN),
      new NpArray(F8, [3], Float64Array.of(1, NaN, 3)),
      new NpArray(F4, [2], Float32Array.of(NaN, 0.5)),
    ];
    const back = readPickle(writePickle(value, { protocol }), 'nan.pkl') as PyValue[];
    expect((back[0] as NpScalar).value).toBeNaN();
    expect((back[1] as NpScalar).value).toBeNaN();
    expect(Array.from((back[2] as NpArray).data as Float64Array)).toEqual([1, NaN, 3]);
    expect((back[3] as NpArray).data).toBeInstanceOf(Float32Array);
    expect(Number.isNaN(((back[3] as NpArray).data as Float32Array)[0])).toBe(true);
  });

  test.each(PROTOCOLS)('protocol %i: numpy scalars of every dtype', (protocol) => {
    const value: PyValue = [
      new NpScalar(I8, -5),
      new NpScalar(I8, 2n ** 62n),
      new NpScalar(new NpDtype('<i4'), -7),
      new NpScalar(new NpDtype('|u1'), 200),
      new NpScalar(new NpDtype('|b1'), true),
      new NpScalar(F8, 39.95506429672241),
    ];
    expect(readPickle(writePickle(value, { protocol }), 'scalars.pkl')).toEqual(value);
  });

  for (const protocol of PROTOCOLS) {
    for (const numpyModule of MODULES) {
      test(`protocol ${protocol}, ${numpyModule}: arrays of every dtype, including object arrays and shape ()`, () => {
        const value: PyValue = new Map<string, PyValue>([
          ['f8', new NpArray(F8, [2, 3], Float64Array.of(1, 2, 3, 4, 5, 6))],
          ['f4', new NpArray(F4, [2], Float32Array.of(0.5, 0.25))],
          ['i8', new NpArray(I8, [2], BigInt64Array.of(-1n, 2n ** 62n))],
          ['i4', new NpArray(new NpDtype('<i4'), [1, 1, 2], Int32Array.of(-3, 4))],
          ['b1', new NpArray(new NpDtype('|b1'), [3], Uint8Array.of(1, 0, 1))],
          ['u1', new NpArray(new NpDtype('|u1'), [0], new Uint8Array(0))],
          ['obj', new NpArray(new NpDtype('|O'), [2], [new Map([['a', 1]]), null])],
          ['obj0', new NpArray(new NpDtype('|O'), [], [new Map([['temp', [16, 24]]])])],
          ['f8_0d', new NpArray(F8, [], Float64Array.of(0.19545172990322113))],
        ]);
        expect(readPickle(writePickle(value, { protocol, numpyModule }), 'arrays.pkl')).toEqual(value);
      });
    }
  }

  test('a shared sub-structure stays shared (memo), and is written once', () => {
    const shared = [1, 2, 3];
    const value = new Map<string, PyValue>([
      ['a', shared],
      ['b', shared],
    ]);
    const bytes = writePickle(value, { protocol: 3 });
    expect(countOp(bytes, OP.EMPTY_LIST)).toBe(1);
    const back = readPickle(bytes, 'shared.pkl') as PyDict;
    expect(back.get('a')).toBe(back.get('b'));
  });

  test('more than 256 memo entries use LONG_BINPUT/LONG_BINGET (protocol 3) and MEMOIZE (protocol 4)', () => {
    const keys = Array.from({ length: 400 }, (_, i) => `key${i}`);
    const value = keys.map((k) => new Map([[k, 1]]));
    const again = [...value, ...keys]; // the strings again: memo gets beyond index 255
    const p3 = writePickle(again, { protocol: 3 });
    expect(p3.includes(OP.LONG_BINPUT)).toBe(true);
    expect(p3.includes(OP.LONG_BINGET)).toBe(true);
    expect(readPickle(p3, 'p3.pkl')).toEqual(again);
    const p4 = writePickle(again, { protocol: 4 });
    expect(countOp(p4, OP.MEMOIZE)).toBeGreaterThan(800);
    expect(readPickle(p4, 'p4.pkl')).toEqual(again);
  });

  test('protocol 4 frames large pickles in several FRAMEs and puts big payloads outside them', () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    const value = [Array.from({ length: 30_000 }, (_, i) => i + 0.5), big, 'tail'];
    const bytes = writePickle(value as PickleInput, { protocol: 4 });
    const back = readPickle(bytes, 'framed.pkl') as PyValue[];
    expect(back[0]).toEqual(value[0]);
    expect(Buffer.compare(back[1] as Uint8Array, big)).toBe(0); // (toEqual on 200 kB is slow)
    expect(back[2]).toBe('tail');
    // Walk the frames: 30 000 floats of 9 bytes need several 64 KiB frames, then the 200 kB payload comes
    // outside any frame (CPython's write_large_bytes), then one last frame holds the rest and STOP.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const frames: number[] = [];
    let pos = 2;
    while (bytes[pos] === OP.FRAME) {
      const len = Number(view.getBigUint64(pos + 1, true));
      frames.push(len);
      pos += 9 + len;
    }
    expect(frames.length).toBeGreaterThanOrEqual(4);
    for (const len of frames.slice(0, -1)) expect(len).toBeGreaterThanOrEqual(64 * 1024);
    expect(bytes[pos]).toBe(OP.BINBYTES);
    expect(view.getUint32(pos + 1, true)).toBe(big.length);
    pos += 5 + big.length;
    expect(bytes[pos]).toBe(OP.FRAME);
    pos += 9 + Number(view.getBigUint64(pos + 1, true));
    expect(pos).toBe(bytes.length);
    expect(bytes[bytes.length - 1]).toBe(OP.STOP);
  });

  test('PyFloat writes an integral number as a Python float', () => {
    const asInt = writePickle([100], { protocol: 3 });
    const asFloat = writePickle([new PyFloat(100)], { protocol: 3 });
    expect(asInt.includes(OP.BININT1)).toBe(true);
    expect(asFloat.includes(OP.BINFLOAT)).toBe(true);
    expect(readPickle(asFloat, 'f.pkl')).toEqual([100]);
  });
});
