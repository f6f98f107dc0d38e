import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../formats/errors.js';
import { OP } from '../../formats/pickle/opcodes.js';
import { readPickle } from '../../formats/pickle/reader.js';
import { rawPickle, u32le, writePickle } from '../../formats/pickle/writer.js';
import { NpDtype, NpScalar, type PyDict, type PyValue } from '../../formats/values.js';
import { prng } from '../helpers/prng.js';
import { hasNumpy, PYTHON } from '../helpers/shared.js';
import { expectFormatError, formatErrorOf } from './support.js';

const binunicode = (s: string): (number | number[] | Uint8Array)[] => {
  const utf8 = new TextEncoder().encode(s);
  return [OP.BINUNICODE, u32le(utf8.length), utf8];
};
const shortUnicode = (s: string): (number | string)[] => [OP.SHORT_BINUNICODE, s.length, s];
const global = (module: string, name: string): (number | string)[] => [OP.GLOBAL, `${module}\n${name}\n`];
const stackGlobal = (module: string, name: string): (number | string)[] => [...shortUnicode(module), ...shortUnicode(name), OP.STACK_GLOBAL];

/** `module.name(arg)` as protocol 2 (GLOBAL) or protocol 4 (STACK_GLOBAL) would spell it. */
function callPickle(module: string, name: string, arg: string, viaStack: boolean): Uint8Array {
  const fn = viaStack ? stackGlobal(module, name) : global(module, name);
  return rawPickle(OP.PROTO, viaStack ? 4 : 2, ...fn, ...binunicode(arg), OP.TUPLE1, OP.REDUCE, OP.STOP);
}

function realShaped(): PyDict {
  const f4 = new NpDtype('<f4');
  const cka: PyDict = new Map();
  for (let a = 0; a < 3; a++) {
    const row: PyDict = new Map();
    for (let b = 0; b < 3; b++) row.set(b, [new NpScalar(f4, Math.fround(0.5 + a / 10)), new NpScalar(f4, Math.fround(0.25 * b))]);
    cka.set(a, row);
  }
  return new Map<string, PyValue>([
    ['representation_similarity', cka],
    ['trace', new NpScalar(new NpDtype('<f8'), 58.54216521126883)],
    ['top_eigenvalue', [2.861771821975708]],
    ['raw', Uint8Array.of(1, 2, 3)],
    ['big', 2n ** 70n],
  ]);
}

describe('forbidden globals are refused before anything runs', () => {
  const marker = join(tmpdir(), `mdpipe-formats-marker-${process.pid}-${Date.now()}`);
  afterEach(() => rmSync(marker, { force: true }));

  test.each([false, true])('posix.system("touch marker") is refused (STACK_GLOBAL: %s) and the marker is never created', (viaStack) => {
    const hostile = callPickle('posix', 'system', `touch ${marker}`, viaStack);
    const e = expectFormatError(() => readPickle(hostile, 'evil.pkl'), 'forbidden-global');
    expect(e.message).toContain('evil.pkl');
    expect(e.message).toContain('posix.system');
    expect(e.message).toContain('tampered');
    expect(existsSync(marker)).toBe(false);
  });

  (hasNumpy() ? test : test.skip)('the same bytes really are hostile: CPython pickle.loads creates the marker', () => {
    // Proves the test above can fail: the pickle it feeds the reader does run a command in Python.
    const hostile = callPickle('posix', 'system', `touch ${marker}`, false);
    spawnSync(PYTHON, ['-c', 'import pickle, sys; pickle.loads(sys.stdin.buffer.read())'], { input: hostile, timeout: 30000 });
    expect(existsSync(marker)).toBe(true);
  });
  if (!hasNumpy()) process.stderr.write('skipping the CPython hostile-pickle check: /usr/bin/python3 with numpy is not available\n');

  test.each([
    ['builtins', 'eval'],
    ['subprocess', 'Popen'],
    ['os', 'system'],
    ['nt', 'system'],
    ['__builtin__', 'bytes'],
    ['copyreg', '_reconstructor'],
    ['numpy', 'load'],
    ['numpy.core.multiarray', 'dtype'],
    ['numpy.core.multiarray', 'scalar '],
    ['numpy.core.multiarray ', 'scalar'],
    ['numpy.lib.format', 'read_array'],
    ['_codecs', 'decode'],
  ])('%s.%s is refused, via GLOBAL and STACK_GLOBAL, naming the global', (module, name) => {
    for (const viaStack of [false, true]) {
      const e = expectFormatError(() => readPickle(callPickle(module, name, 'x', viaStack), 'f.pkl'), 'forbidden-global');
      expect(e.message).toContain(`${module}.${name}`);
    }
  });

  test('the refusal happens at the GLOBAL opcode, before the arguments and the REDUCE are read', () => {
    // The arguments here are garbage: had the reader gone on, it would report them instead.
    const hostile = rawPickle(OP.PROTO, 2, ...global('os', 'system'), 0xff, 0xfe, OP.REDUCE, OP.STOP);
    const e = expectFormatError(() => readPickle(hostile, 'f.pkl'), 'forbidden-global');
    expect(e.offset).toBe(2);
  });

  test('a forbidden call nested deep inside valid data is still refused', () => {
    const valid = writePickle(new Map([['a', [1, 2, 3]]]), { protocol: 2 });
    // Replace the final STOP: add the key 'b' -> os.system('x') to the top dict.
    const hostile = rawPickle(valid.subarray(0, valid.length - 1), ...binunicode('b'), ...global('os', 'system'), ...binunicode('x'), OP.TUPLE1, OP.REDUCE, OP.SETITEM, OP.STOP);
    expectFormatError(() => readPickle(hostile, 'f.pkl'), 'forbidden-global');
  });

  test.each([
    ['utf-8', [...binunicode('text'), ...binunicode('utf-8'), OP.TUPLE2]],
    ['rot13', [...binunicode('text'), ...binunicode('rot13'), OP.TUPLE2]],
    ['latin-1 (spelled differently)', [...binunicode('text'), ...binunicode('latin-1'), OP.TUPLE2]],
    ['the default (one argument)', [...binunicode('text'), OP.TUPLE1]],
  ])('_codecs.encode with encoding %s is refused', (_label, args) => {
    const hostile = rawPickle(OP.PROTO, 2, ...global('_codecs', 'encode'), ...(args as number[]), OP.REDUCE, OP.STOP);
    const e = expectFormatError(() => readPickle(hostile, 'f.pkl'), 'forbidden-global');
    expect(e.message).toContain('_codecs.encode');
  });

  test("_codecs.encode(text, 'latin1') is allowed and gives the bytes", () => {
    const ok = rawPickle(OP.PROTO, 2, ...global('_codecs', 'encode'), ...binunicode('\u00ff\u0000A'), ...binunicode('latin1'), OP.TUPLE2, OP.REDUCE, OP.STOP);
    expect(readPickle(ok, 'f.pkl')).toEqual(Uint8Array.of(0xff, 0, 0x41));
  });
});

describe('limits: hostile sizes fail fast with limit-exceeded or truncated', () => {
  test('100k nested EMPTY_LIST + APPEND is limit-exceeded (maxDepth)', () => {
    const n = 100_000;
    const bytes = rawPickle(OP.PROTO, 2, new Array(n).fill(OP.EMPTY_LIST), new Array(n - 1).fill(OP.APPEND), OP.STOP);
    const e = expectFormatError(() => readPickle(bytes, 'deep.pkl'), 'limit-exceeded');
    expect(e.message).toContain('maxDepth');
  });

  test('100k MARKs stop at the 101st MARK, without reading the rest', () => {
    const bytes = rawPickle(OP.PROTO, 2, new Array(100_000).fill(OP.MARK), OP.STOP);
    const e = expectFormatError(() => readPickle(bytes, 'marks.pkl'), 'limit-exceeded');
    expect(e.offset).toBe(2 + 100);
  });

  test('a deep structure within a raised maxDepth is read', () => {
    const n = 500;
    const bytes = rawPickle(OP.PROTO, 2, new Array(n).fill(OP.EMPTY_LIST), new Array(n - 1).fill(OP.APPEND), OP.STOP);
    let v = readPickle(bytes, 'deep.pkl', { maxDepth: 1000 }) as PyValue[];
    let depth = 1;
    while (v.length > 0) {
      v = v[0] as PyValue[];
      depth++;
    }
    expect(depth).toBe(n);
  });

  test('shared references that would expand to 2^60 elements are limit-exceeded (maxElements)', () => {
    // L0 = [1]; L(k+1) = [Lk, Lk]: 60 levels in ~900 bytes; a naive walk would visit 2^60 lists.
    const ops: (number | number[])[] = [OP.PROTO, 2, OP.EMPTY_LIST, OP.BININT1, 1, OP.APPEND, OP.LONG_BINPUT, u32le(0), OP.POP];
    for (let k = 1; k <= 60; k++) {
      ops.push(OP.EMPTY_LIST, OP.LONG_BINGET, u32le(k - 1), OP.APPEND, OP.LONG_BINGET, u32le(k - 1), OP.APPEND, OP.LONG_BINPUT, u32le(k));
      if (k < 60) ops.push(OP.POP);
    }
    ops.push(OP.STOP);
    // Ten levels are fine: 2^10 lists.
    const small = rawPickle(...ops.slice(0, 9 + 10 * 10 - 1), OP.STOP);
    expect(readPickle(small, 'ten.pkl')).toHaveLength(2);
    const e = expectFormatError(() => readPickle(rawPickle(...ops), 'laughs.pkl'), 'limit-exceeded');
    expect(e.message).toContain('maxElements');
  });

  test('a list that contains itself is bad-structure', () => {
    const bytes = rawPickle(OP.PROTO, 2, OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND, OP.STOP);
    const e = expectFormatError(() => readPickle(bytes, 'cycle.pkl'), 'bad-structure');
    expect(e.message).toContain('contains itself');
  });

  test.each([
    ['BINUNICODE claiming 4 GB', [OP.BINUNICODE, 0xff, 0xff, 0xff, 0xff, 0x41]],
    ['BINBYTES claiming 4 GB (a negative length in a signed reader)', [OP.BINBYTES, 0xf9, 0xff, 0xff, 0xff, OP.STOP]],
    ['BINBYTES8 claiming 2^63', [OP.BINBYTES8, 0, 0, 0, 0, 0, 0, 0, 0x80]],
    ['BINUNICODE8 claiming 2^40', [OP.BINUNICODE8, 0, 0, 0, 0, 0, 1, 0, 0]],
    ['BYTEARRAY8 claiming 2^52', [OP.BYTEARRAY8, 0, 0, 0, 0, 0, 0, 0x10, 0]],
    ['LONG4 claiming 2 GB', [OP.LONG4, 0xff, 0xff, 0xff, 0x7f]],
    ['FRAME claiming 2^50', [OP.FRAME, 0, 0, 0, 0, 0, 0, 4, 0]],
    ['SHORT_BINUNICODE claiming 255 bytes', [OP.SHORT_BINUNICODE, 255, 0x41]],
  ])('%s is truncated, not an allocation', (_label, ops) => {
    const e = expectFormatError(() => readPickle(rawPickle(OP.PROTO, 4, ops as number[]), 'huge.pkl'), 'truncated');
    expect(e.offset).toBe(2);
    expect(e.message).toMatch(/left\)/);
  });

  test('LONG4 with a negative length is bad-structure', () => {
    expectFormatError(() => readPickle(rawPickle(OP.PROTO, 2, OP.LONG4, 0xfe, 0xff, 0xff, 0xff, OP.STOP), 'f.pkl'), 'bad-structure');
  });

  test('maxMemo, maxElements and maxBytes are enforced and named', () => {
    const memo = rawPickle(OP.PROTO, 2, OP.NONE, Array.from({ length: 11 }, (_, i) => [OP.BINPUT, i]).flat(), OP.STOP);
    expect(readPickle(memo, 'm.pkl', { maxMemo: 11 })).toBeNull();
    expect(expectFormatError(() => readPickle(memo, 'm.pkl', { maxMemo: 10 }), 'limit-exceeded').message).toContain('maxMemo');

    const list = writePickle([1, 2, 3, 4, 5, 6]);
    expect(readPickle(list, 'l.pkl', { maxElements: 6 })).toEqual([1, 2, 3, 4, 5, 6]);
    expect(expectFormatError(() => readPickle(list, 'l.pkl', { maxElements: 5 }), 'limit-exceeded').message).toContain('maxElements');

    const str = writePickle('x'.repeat(200));
    expect(expectFormatError(() => readPickle(str, 's.pkl', { maxBytes: 100 }), 'limit-exceeded').message).toContain('maxBytes');
  });

  test('one byte string reused by many arrays counts its copies against maxBytes', () => {
    // 1 KiB of raw data stored once, then given (via memo) to 2000 float64 arrays: 2 MB of copies.
    const one = writePickle(new Uint8Array(1024));
    const ops: (number | string | number[] | Uint8Array)[] = [OP.PROTO, 3, OP.EMPTY_LIST, OP.MARK];
    ops.push(one.subarray(2, one.length - 1)); // SHORT/BINBYTES + BINPUT 0 (the bytes)
    ops.push(OP.POP, ...global('numpy', 'dtype'), ...binunicode('f8'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.BINPUT, 1, OP.POP);
    for (let i = 0; i < 2000; i++) {
      ops.push(...global('numpy.core.multiarray', '_reconstruct'), ...global('numpy', 'ndarray'), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, 0x62, OP.TUPLE3, OP.REDUCE);
      ops.push(OP.MARK, OP.BININT1, 1, OP.BININT1, 128, OP.TUPLE1, OP.BINGET, 1, OP.NEWFALSE, OP.BINGET, 0, OP.TUPLE, OP.BUILD);
    }
    ops.push(OP.APPENDS, OP.STOP);
    const bytes = rawPickle(...(ops as number[]));
    expect((readPickle(bytes, 'copies.pkl') as PyValue[]).length).toBe(2000);
    expect(expectFormatError(() => readPickle(bytes, 'copies.pkl', { maxBytes: 1024 * 1024 }), 'limit-exceeded').message).toContain('maxBytes');
  });

  test('a sparse LONG_BINPUT index is fine; a LONG_BINGET of an index never stored is bad-structure', () => {
    expect(readPickle(rawPickle(OP.PROTO, 2, OP.NONE, OP.LONG_BINPUT, 0, 0, 0, 0xf0, OP.POP, OP.LONG_BINGET, 0, 0, 0, 0xf0, OP.STOP), 'f.pkl')).toBeNull();
    const e = expectFormatError(() => readPickle(rawPickle(OP.PROTO, 2, OP.LONG_BINGET, 1, 0, 0, 0, OP.STOP), 'f.pkl'), 'bad-structure');
    expect(e.message).toContain('memo entry 1');
  });
});

describe('malformed files', () => {
  test('an empty file is empty', () => {
    const e = expectFormatError(() => readPickle(new Uint8Array(0), 'empty.pkl'), 'empty');
    expect(e.message).toBe('empty.pkl: the file is empty (0 bytes); the file is empty: re-copy it from the training run');
  });

  test.each([
    ['text', new TextEncoder().encode('hello world')],
    ['a protocol 0 pickle', new TextEncoder().encode("(dp0\nS'a'\np1\nI1\ns.")],
    ['an .npy file', Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0)],
    ['a zip file', Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0)],
  ])('%s is bad-magic', (_label, bytes) => {
    expectFormatError(() => readPickle(bytes, 'x.pkl'), 'bad-magic');
  });

  test.each([0, 1, 6, 255])('protocol %i is unsupported', (p) => {
    expectFormatError(() => readPickle(rawPickle(OP.PROTO, p, OP.NONE, OP.STOP), 'p.pkl'), 'unsupported');
  });

  test.each([
    ['EMPTY_SET', [OP.EMPTY_SET]],
    ['FROZENSET', [OP.MARK, OP.FROZENSET]],
    ['NEWOBJ', [...global('numpy', 'ndarray'), OP.EMPTY_TUPLE, OP.NEWOBJ]],
    ['PERSID', [OP.PERSID, 'x\n']],
    ['BINPERSID', [OP.NONE, OP.BINPERSID]],
    ['EXT1', [OP.EXT1, 1]],
    ['NEXT_BUFFER', [OP.NEXT_BUFFER]],
    ['INT', [OP.INT, '1\n']],
    ['SHORT_BINSTRING', [OP.SHORT_BINSTRING, 1, 'a']],
  ])('%s is unsupported-opcode', (name, ops) => {
    const e = expectFormatError(() => readPickle(rawPickle(OP.PROTO, 4, ...(ops as number[]), OP.STOP), 'u.pkl'), 'unsupported-opcode');
    expect(e.message).toContain(name);
  });

  test.each([
    ['APPEND on an empty stack', [OP.APPEND]],
    ['APPEND to a dict', [OP.EMPTY_DICT, OP.NONE, OP.APPEND]],
    ['SETITEM on a list', [OP.EMPTY_LIST, OP.NONE, OP.NONE, OP.SETITEM]],
    ['a list as a dict key', [OP.EMPTY_DICT, OP.EMPTY_LIST, OP.NONE, OP.SETITEM]],
    ['SETITEMS with an odd count', [OP.EMPTY_DICT, OP.MARK, OP.NONE, OP.SETITEMS]],
    ['APPENDS with nothing below its MARK', [OP.MARK, OP.NONE, OP.APPENDS]],
    ['APPENDS whose list lies below another MARK', [OP.EMPTY_LIST, OP.MARK, OP.MARK, OP.NONE, OP.APPENDS, OP.POP_MARK]],
    ['SETITEMS on a list', [OP.EMPTY_LIST, OP.MARK, OP.NONE, OP.NONE, OP.SETITEMS]],
    ['SETITEMS whose dict lies below another MARK', [OP.EMPTY_DICT, OP.MARK, OP.MARK, OP.NONE, OP.NONE, OP.SETITEMS, OP.POP_MARK]],
    ['TUPLE without MARK', [OP.NONE, OP.TUPLE]],
    ['two values left at STOP', [OP.NONE, OP.NONE]],
    ['an open MARK at STOP', [OP.NONE, OP.MARK]],
    ['REDUCE of a non-callable', [OP.NONE, OP.EMPTY_TUPLE, OP.REDUCE]],
    ['BUILD on a dict', [OP.EMPTY_DICT, OP.EMPTY_DICT, OP.BUILD]],
    ['a bare global as the value', [...global('numpy', 'dtype')]],
    ['numpy.ndarray called directly', [...global('numpy', 'ndarray'), OP.EMPTY_TUPLE, OP.REDUCE]],
    ['an ndarray never built', [...global('numpy.core.multiarray', '_reconstruct'), ...global('numpy', 'ndarray'), OP.BININT1, 0, OP.TUPLE1, OP.SHORT_BINBYTES, 1, 'b', OP.TUPLE3, OP.REDUCE]],
    ['a scalar with 3 bytes for float64', [...global('numpy.core.multiarray', 'scalar'), ...global('numpy', 'dtype'), ...binunicode('f8'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.SHORT_BINBYTES, 3, 1, 2, 3, OP.TUPLE2, OP.REDUCE]],
    ['a byte that is no opcode', [0xff]],
  ])('%s is bad-structure', (_label, ops) => {
    expectFormatError(() => readPickle(rawPickle(OP.PROTO, 2, ...(ops as number[]), OP.STOP), 'b.pkl'), 'bad-structure');
  });

  test.each([
    ['a big-endian dtype', [...global('numpy', 'dtype'), ...binunicode('f8'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE, OP.MARK, OP.BININT1, 3, ...binunicode('>'), OP.NONE, OP.NONE, OP.NONE, OP.BININT1, 0, OP.BININT1, 0, OP.BININT1, 0, OP.TUPLE, OP.BUILD]],
    ['complex128', [...global('numpy', 'dtype'), ...binunicode('c16'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE]],
    ['a unicode dtype', [...global('numpy', 'dtype'), ...binunicode('U8'), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE]],
  ])('%s is unsupported, naming the dtype', (_label, ops) => {
    const e = expectFormatError(() => readPickle(rawPickle(OP.PROTO, 2, ...(ops as number[]), OP.STOP), 'd.pkl'), 'unsupported');
    expect(e.message).toMatch(/dtype (>f8|c16|U8)/);
  });

  test('invalid UTF-8 in a string is bad-structure', () => {
    expectFormatError(() => readPickle(rawPickle(OP.PROTO, 2, OP.BINUNICODE, u32le(2), 0xc3, 0x28, OP.STOP), 'f.pkl'), 'bad-structure');
  });

  for (const protocol of [2, 3, 4, 5] as const) {
    test(`protocol ${protocol}: every prefix of a real-shaped pickle is empty or truncated`, () => {
      const full = writePickle(realShaped(), { protocol });
      expect(readPickle(full, 'full.pkl')).toEqual(realShaped());
      const reasons = new Map<string, number>();
      for (let len = 0; len < full.length; len++) {
        const e = formatErrorOf(() => readPickle(full.subarray(0, len), `prefix-${len}.pkl`));
        reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
      }
      expect(reasons.get('empty')).toBe(1);
      expect(reasons.get('truncated')).toBe(full.length - 1);
    });
  }

  test('random bytes: every input ends in a value or a FormatError, never another exception', () => {
    const rand = prng(12345);
    const outcomes = { value: 0, formatError: 0 };
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 64);
      const bytes = new Uint8Array(len).map(() => Math.floor(rand() * 256));
      if (i % 2 === 0 && len >= 2) {
        bytes[0] = OP.PROTO; // get past the magic half of the time
        bytes[1] = 2 + (i % 4);
      }
      try {
        readPickle(bytes, `random-${i}.pkl`);
        outcomes.value++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`input ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
        outcomes.formatError++;
      }
    }
    expect(outcomes.value + outcomes.formatError).toBe(3000);
    expect(outcomes.formatError).toBeGreaterThan(2500);
  });

  test('mutated real-shaped pickles: each ends in a value or a FormatError', () => {
    const rand = prng(777);
    for (const protocol of [2, 3, 4] as const) {
      const base = writePickle(realShaped(), { protocol });
      for (let i = 0; i < 1500; i++) {
        const bytes = base.slice();
        const flips = 1 + Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
        try {
          readPickle(bytes, 'mutated.pkl');
        } catch (e) {
          if (!(e instanceof FormatError)) throw new Error(`protocol ${protocol} mutation ${Buffer.from(bytes).toString('hex')}: ${String(e)}`);
        }
      }
    }
  });
});
