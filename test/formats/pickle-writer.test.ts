import { UnwritableValueError } from '../../formats/errors.js';
import { OP } from '../../formats/pickle/opcodes.js';
import { readPickle } from '../../formats/pickle/reader.js';
import { PyFloat, PyStream, rawPickle, u32le, writePickle, type PickleInput, type PickleSink } from '../../formats/pickle/writer.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyValue } from '../../formats/values.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const count = (b: Uint8Array, op: number): number => b.filter((x) => x === op).length;

describe('writePickle: the opcodes CPython writes', () => {
  // Expected bytes are `pickle.dumps(x, 2).hex()` from CPython 3.11.
  test.each([
    [0, '80024b002e'],
    [255, '80024bff2e'],
    [256, '80024d00012e'],
    [65535, '80024dffff2e'],
    [65536, '80024a000001002e'],
    [-1, '80024affffffff2e'],
    [2 ** 31 - 1, '80024affffff7f2e'],
    [-(2 ** 31), '80024a000000802e'],
    [2 ** 31, '80028a0500000080002e'],
    [-(2 ** 31) - 1, '80028a05ffffff7fff2e'],
    [-(2n ** 63n), '80028a0800000000000000802e'],
    [2n ** 64n, '80028a09000000000000000001' + '2e'],
    [-128, '80024a80ffffff2e'],
  ])('int %s', (value, expected) => {
    expect(hex(writePickle(value as number | bigint, { protocol: 2 }))).toBe(expected);
    expect(readPickle(writePickle(value as number | bigint, { protocol: 2 }), 'i.pkl')).toBe(value);
  });

  test('ints longer than 255 bytes use LONG4', () => {
    const big = 2n ** 2100n;
    const b = writePickle(big, { protocol: 2 });
    expect(b[2]).toBe(OP.LONG4);
    expect(readPickle(b, 'big.pkl')).toBe(big);
  });

  test('floats are big-endian BINFLOAT; -0, NaN and non-integral numbers are floats', () => {
    expect(hex(writePickle(0.5, { protocol: 2 }))).toBe('800247' + '3fe0000000000000' + '2e');
    expect(writePickle(-0, { protocol: 2 })[2]).toBe(OP.BINFLOAT);
    expect(writePickle(NaN, { protocol: 2 })[2]).toBe(OP.BINFLOAT);
    expect(writePickle(new PyFloat(3), { protocol: 2 })[2]).toBe(OP.BINFLOAT);
    expect(writePickle(3, { protocol: 2 })[2]).toBe(OP.BININT1);
  });

  test('protocol 2 spells bytes as _codecs.encode(text, "latin1"), including empty bytes', () => {
    const b = writePickle([Uint8Array.of(0xff, 0x00), new Uint8Array(0)], { protocol: 2 });
    expect(latin1(b)).toContain('c_codecs\nencode\n');
    expect(latin1(b)).not.toContain('__builtin__');
    expect(b.includes(OP.SHORT_BINBYTES)).toBe(false);
    expect(latin1(b).split('c_codecs\nencode\n').length - 1).toBe(1); // memoised: the second use is a BINGET
    expect(readPickle(b, 'b.pkl')).toEqual([Uint8Array.of(0xff, 0x00), new Uint8Array(0)]);
  });

  test('protocol 3 uses SHORT_BINBYTES / BINBYTES', () => {
    const b = writePickle([Uint8Array.of(1), new Uint8Array(300)], { protocol: 3 });
    expect(b.includes(OP.SHORT_BINBYTES)).toBe(true);
    expect(b.includes(OP.BINBYTES)).toBe(true);
    expect(latin1(b)).not.toContain('_codecs');
  });

  test('protocol 3 writes numpy globals as GLOBAL lines with BINPUT; protocol 4 as STACK_GLOBAL with FRAME and MEMOIZE', () => {
    const value = [new NpScalar(new NpDtype('<f8'), 1.5), new NpScalar(new NpDtype('<f8'), 2.5)];
    const p3 = writePickle(value, { protocol: 3 });
    expect(latin1(p3)).toContain('cnumpy.core.multiarray\nscalar\n');
    expect(latin1(p3)).toContain('cnumpy\ndtype\n');
    // The second scalar reuses both globals and the dtype via BINGET.
    expect(latin1(p3).split('cnumpy.core.multiarray\nscalar\n').length - 1).toBe(1);
    expect(latin1(p3).split('cnumpy\ndtype\n').length - 1).toBe(1);
    expect(p3.includes(OP.MEMOIZE)).toBe(false);

    const p4 = writePickle(value, { protocol: 4, numpyModule: 'numpy._core' });
    expect(p4[2]).toBe(OP.FRAME);
    expect(Number(new DataView(p4.buffer).getBigUint64(3, true))).toBe(p4.length - 11);
    expect(latin1(p4)).toContain('numpy._core.multiarray');
    expect(latin1(p4)).not.toContain('numpy.core.multiarray');
    expect(count(p4, OP.STACK_GLOBAL)).toBe(2);
    expect(p4.includes(OP.BINPUT)).toBe(false);
    expect(readPickle(p4, 'p4.pkl')).toEqual(value);
  });

  test('a tiny protocol 4 pickle has no FRAME (under 4 bytes of content, as CPython)', () => {
    expect(hex(writePickle(null, { protocol: 4 }))).toBe('80044e2e');
    expect(writePickle([1, 2], { protocol: 4 })[2]).toBe(OP.FRAME);
  });

  test('repeated dict keys are written once and fetched from the memo', () => {
    const seeds = new Map(Array.from({ length: 5 }, (_, s) => [s, new Map<string, PickleInput>([['nll', 0.5], ['loss', 0.5], ['accuracy', new PyFloat(100)]])]));
    const b = writePickle(seeds as unknown as PickleInput, { protocol: 3 });
    expect(latin1(b).split('accuracy').length - 1).toBe(1);
    expect(count(b, OP.BINGET)).toBe(4 * 3);
  });

  test('lists and dicts are batched in groups of 1000 (APPENDS/SETITEMS), a single item uses APPEND/SETITEM', () => {
    const list = writePickle(Array.from({ length: 2500 }, () => null), { protocol: 3 });
    expect(count(list, OP.APPENDS)).toBe(3);
    expect(count(list, OP.MARK)).toBe(3);
    expect(hex(writePickle([null], { protocol: 3 }))).toBe('80035d7100' + '4e61' + '2e');
    expect(hex(writePickle(new Map([['a', null]]), { protocol: 3 }))).toBe('80037d7100' + '58010000006171014e73' + '2e');
  });

  test('arrays use _reconstruct + BUILD (protocol 5 too), object arrays carry a list', () => {
    const arr = new NpArray(new NpDtype('<f8'), [2], Float64Array.of(1, 2));
    for (const protocol of [2, 3, 4, 5] as const) {
      const b = writePickle(arr, { protocol });
      expect(latin1(b)).toContain('_reconstruct');
      expect(latin1(b)).not.toContain('_frombuffer');
      expect(readPickle(b, 'a.pkl')).toEqual(arr);
    }
    const obj = new NpArray(new NpDtype('|O'), [], [new Map([['k', 1]])]);
    expect(latin1(writePickle(obj))).toContain('O8');
  });
});

describe('writePickle: a PyStream writes the bytes of the tree it stands for', () => {
  // Repeated keys (memo BINGET), one-character strs (shared with numpy's '|'), an 8,000-item list (eight
  // APPENDS batches, 72 KB: two protocol-4 frames) and a 1-item dict (SETITEM), a 4-tuple (MARK ... TUPLE), non-ASCII and >255-char strs.
  const rows = Array.from({ length: 300 }, (_, i) => ({ name: i % 3 ? 'r' : 'Ré', xs: Array.from({ length: i === 7 ? 8000 : i % 4 }, (_, j) => j * 0.5 + i) }));
  const tree: PickleInput = new Map<string, PickleInput>([
    ['rows', rows.map((r) => new Map<string, PickleInput>([['name', r.name], ['xs', r.xs.map((x) => new PyFloat(x))], ['one', new Map([['k', null]])]]))],
    ['tuple', new PyTuple(['|', 1, 2 ** 40, 'z'.repeat(300)])],
    ['array', new NpArray(new NpDtype('<f8'), [2], new Float64Array([1, NaN]))],
  ]);
  const stream = new PyStream((w: PickleSink) => {
    w.dict(3);
    w.str('rows');
    w.list(rows.length);
    for (const r of rows) {
      w.dict(3);
      w.str('name'); w.str(r.name); w.item();
      w.str('xs'); w.list(r.xs.length); for (const x of r.xs) { w.float(x); w.item(); } w.item();
      w.str('one'); w.dict(1); w.str('k'); w.value(null); w.item(); w.item();
      w.item();
    }
    w.item();
    w.str('tuple'); w.tupleMark(4); w.str('|'); w.value(1); w.value(2 ** 40); w.str('z'.repeat(300)); w.tuple(4); w.item();
    w.str('array'); w.value(new NpArray(new NpDtype('<f8'), [2], new Float64Array([1, NaN]))); w.item();
  });
  test.each([2, 3, 4, 5] as const)('protocol %i, inside a numpy object array too', (protocol) => {
    expect(hex(writePickle(stream, { protocol }))).toBe(hex(writePickle(tree, { protocol })));
    const wrap = (v: PickleInput): PickleInput => new NpArray(new NpDtype('|O'), [], [v as PyValue]);
    expect(hex(writePickle(wrap(stream), { protocol }))).toBe(hex(writePickle(wrap(tree), { protocol })));
  });
});

describe('writePickle: values it cannot write', () => {
  test.each([
    ['a function', () => 1, ''],
    ['undefined inside a list', [1, undefined], '[1]'],
    ['a Date inside a dict', new Map([['trace', new Date()]]), '["trace"]'],
    ['a symbol', Symbol('x'), ''],
    ['an object dict key', new Map([[{}, 1]]), '[[object Object]]'],
  ])('%s is an UnwritableValueError naming where it is', (_label, value, path) => {
    let err: unknown;
    try {
      writePickle(value as unknown as PickleInput);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnwritableValueError);
    expect((err as UnwritableValueError).path).toBe(path);
  });

  test('numpy values that do not fit their dtype are refused', () => {
    const bad: [PyValue, RegExp][] = [
      [new NpScalar(new NpDtype('<f4'), 0.1), /float32/],
      [new NpScalar(new NpDtype('<i4'), 2 ** 40), /int32/],
      [new NpScalar(new NpDtype('<i8'), 2n ** 64n), /int64/],
      [new NpScalar(new NpDtype('|b1'), 1), /boolean/],
      [new NpScalar(new NpDtype('<f2'), 1), /not supported/],
      [new NpArray(new NpDtype('<f8'), [3], Float64Array.of(1, 2)), /3 elements/],
      [new NpArray(new NpDtype('<f8'), [2], Float32Array.of(1, 2)), /Float64Array/],
      [new NpArray(new NpDtype('>f8'), [1], Float64Array.of(1)), /not supported/],
    ];
    for (const [value, message] of bad) expect(() => writePickle(value)).toThrow(message);
  });

  test('protocol must be 2 to 5', () => {
    expect(() => writePickle(null, { protocol: 1 as 2 })).toThrow(UnwritableValueError);
  });
});

describe('rawPickle', () => {
  test('concatenates opcodes, latin1 strings, arrays and bytes', () => {
    const b = rawPickle(OP.PROTO, 2, OP.BINUNICODE, u32le(2), 'hi', Uint8Array.of(OP.STOP));
    expect(hex(b)).toBe('80025802000000' + '6869' + '2e');
    expect(readPickle(b, 'raw.pkl')).toBe('hi');
    expect(readPickle(rawPickle(OP.PROTO, 2, OP.EMPTY_TUPLE, OP.STOP), 't.pkl')).toEqual(new PyTuple([]));
  });
});
