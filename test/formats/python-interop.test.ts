/**
 * Cross-checks with CPython + numpy (/usr/bin/python3), skipped visibly where that is not available:
 * what the writers produce loads in numpy with the same values, CPython re-pickles it to the same bytes,
 * and what CPython/numpy write at every protocol reads back here.
 */
import { spawnSync } from 'node:child_process';
import { readNpy, writeNpy } from '../../formats/npy.js';
import { readNpz, writeNpz } from '../../formats/npz.js';
import { readPickle } from '../../formats/pickle/reader.js';
import { PyFloat, writePickle, type PickleInput } from '../../formats/pickle/writer.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyDict, type PyValue } from '../../formats/values.js';
import { describeIfNumpy, PYTHON } from '../helpers/shared.js';
import { expectFormatError } from './support.js';

const SCRIPT = String.raw`
import io, sys, pickle, zipfile
import numpy as np
mode = sys.argv[1]
data = sys.stdin.buffer.read()
out = sys.stdout.buffer
def fresh(x):
    # Unpickled arrays hold private copies of their dtype; arrays made in Python share numpy's dtype singletons,
    # which is what writePickle models. Rebuild arrays so the re-pickle is what numpy writes for fresh values.
    if isinstance(x, dict): return {k: fresh(v) for k, v in x.items()}
    if isinstance(x, list): return [fresh(v) for v in x]
    if isinstance(x, tuple): return tuple(fresh(v) for v in x)
    if isinstance(x, np.ndarray):
        y = x.astype(np.dtype(x.dtype.str), copy=True)
        if y.dtype == object:
            for i in np.ndindex(y.shape): y[i] = fresh(y[i])
        return y
    return x
if mode == 'repickle':
    out.write(pickle.dumps(fresh(pickle.loads(data)), protocol=int(sys.argv[2])))
elif mode == 'npy-resave':
    arr = np.load(io.BytesIO(data), allow_pickle=True)
    b = io.BytesIO(); np.save(b, arr, allow_pickle=True); out.write(b.getvalue())
elif mode == 'npz-resave':
    z = zipfile.ZipFile(io.BytesIO(data))
    bad = z.testzip()
    if bad is not None: sys.exit('bad CRC in ' + bad)
    f = np.load(io.BytesIO(data), allow_pickle=False)
    arrays = {k: f[k] for k in f.files}
    b = io.BytesIO(); np.savez(b, **arrays); out.write(b.getvalue())
elif mode == 'make':
    p = int(sys.argv[2])
    v = {
        'f4': np.float32(0.1), 'f8': np.float64(58.54216521126883), 'i8': np.int64(-5), 'i4': np.int32(7),
        'u1': np.uint8(200), 'b1': np.bool_(True),
        'ints': [0, 255, 65536, -1, 2**31, -2**31 - 1, 2**70, -2**70], 'floats': [0.5, -0.0, float('nan'), 100.0],
        'bytes': b'\x00\xff', 'empty_bytes': b'', 'str': 'h\u00e9llo \u2713', 't': (1, 2.5), 'big_t': (1, 2, 3, 4),
        'none': None, 'seeds': {s: {'nll': 0.25 * s, 'accuracy': 86.53} for s in range(3)},
    }
    if p == 2:
        del v['empty_bytes']  # CPython spells it __builtin__.bytes(), which SPEC does not allow
    if sys.argv[3] == 'arrays':
        v['arr'] = np.arange(6.0).reshape(2, 3)
        v['farr'] = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
        v['obj'] = np.array([{'a': 1}, None], dtype=object)
        v['bools'] = np.array([True, False])
    if sys.argv[3] == 'npz':
        b = io.BytesIO()
        np.savez_compressed(b, tr_err=np.array([0.0, 0.0, 0.028000000000005798, 0.0, 0.0]),
                            f=np.asfortranarray(np.arange(6.0).reshape(2, 3)), i=np.arange(3, dtype=np.int64))
        out.write(b.getvalue())
    else:
        out.write(pickle.dumps(v, protocol=p))
`;

function python(args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, ...args], { input, maxBuffer: 64 << 20, timeout: 60000 });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

const f8 = new NpDtype('<f8');
const f4 = new NpDtype('<f4');

/** The value the 'make' mode builds, as readPickle returns it. */
function expectedMade(withArrays: boolean): PyDict {
  const v = new Map<string, PyValue>([
    ['f4', new NpScalar(f4, Math.fround(0.1))],
    ['f8', new NpScalar(f8, 58.54216521126883)],
    ['i8', new NpScalar(new NpDtype('<i8'), -5)],
    ['i4', new NpScalar(new NpDtype('<i4'), 7)],
    ['u1', new NpScalar(new NpDtype('|u1'), 200)],
    ['b1', new NpScalar(new NpDtype('|b1'), true)],
    ['ints', [0, 255, 65536, -1, 2 ** 31, -(2 ** 31) - 1, 2n ** 70n, -(2n ** 70n)]],
    ['floats', [0.5, -0, NaN, 100]],
    ['bytes', Uint8Array.of(0, 255)],
    ['empty_bytes', new Uint8Array(0)],
    ['str', 'h\u00e9llo \u2713'],
    ['t', new PyTuple([1, 2.5])],
    ['big_t', new PyTuple([1, 2, 3, 4])],
    ['none', null],
    ['seeds', new Map([0, 1, 2].map((s) => [s, new Map<string, PyValue>([['nll', 0.25 * s], ['accuracy', 86.53]])]))],
  ]);
  if (withArrays) {
    v.set('arr', new NpArray(f8, [2, 3], Float64Array.of(0, 1, 2, 3, 4, 5)));
    v.set('farr', new NpArray(new NpDtype('<i4'), [2, 3], Int32Array.of(0, 1, 2, 3, 4, 5)));
    v.set('obj', new NpArray(new NpDtype('|O'), [2], [new Map([['a', 1]]), null]));
    v.set('bools', new NpArray(new NpDtype('|b1'), [2], Uint8Array.of(1, 0)));
  }
  return v;
}

/** A value for the writer, floats marked where Python has them. */
function toWrite(withArrays: boolean): PickleInput {
  const v = expectedMade(withArrays) as Map<string, PickleInput>;
  v.set('floats', [0.5, -0, NaN, new PyFloat(100)]);
  v.set('seeds', new Map([0, 1, 2].map((s) => [s, new Map<string, PickleInput>([['nll', new PyFloat(0.25 * s)], ['accuracy', 86.53]])])));
  return v;
}

describeIfNumpy('CPython + numpy 1.24 interop', () => {
  test.each([2, 3, 4, 5] as const)('protocol %i: CPython reads what writePickle writes and re-pickles it to the same bytes', (protocol) => {
    // numpy pickles arrays at protocol 5 with _frombuffer, so byte identity there is checked without arrays.
    const value = toWrite(protocol !== 5) as Map<string, PickleInput>;
    // CPython writes protocol 2's empty bytes as __builtin__.bytes(), outside SPEC's allowlist (tested below).
    if (protocol === 2) value.delete('empty_bytes');
    const ours = writePickle(value, { protocol });
    const theirs = python(['repickle', String(protocol)], ours);
    expect(Buffer.from(theirs).toString('hex')).toBe(Buffer.from(ours).toString('hex'));
  });

  test('protocol 5: arrays written with _reconstruct load in numpy with the same values', () => {
    const value = toWrite(true);
    const back = python(['repickle', '3'], writePickle(value, { protocol: 5 }));
    expect(readPickle(back, 'p5.pkl')).toEqual(expectedMade(true));
  });

  test.each([2, 3, 4] as const)('protocol %i: what CPython + numpy write reads back, arrays included', (protocol) => {
    const bytes = python(['make', String(protocol), 'arrays'], new Uint8Array(0));
    const expected = expectedMade(true);
    if (protocol === 2) expected.delete('empty_bytes');
    expect(readPickle(bytes, `py-p${protocol}.pkl`)).toEqual(expected);
  });

  test("protocol 2: empty bytes written as _codecs.encode('', 'latin1') load in CPython as b''", () => {
    const back = python(['repickle', '3'], writePickle([new Uint8Array(0)], { protocol: 2 }));
    expect(readPickle(back, 'empty.pkl')).toEqual([new Uint8Array(0)]);
  });

  test("protocol 2: CPython's empty bytes, __builtin__.bytes(), is refused as SPEC says (writePickle uses _codecs.encode)", () => {
    const e = expectFormatError(() => readPickle(python(['repickle', '2'], writePickle(new Uint8Array(0), { protocol: 3 })), 'empty.pkl'), 'forbidden-global');
    expect(e.message).toContain('__builtin__.bytes');
  });

  test('protocol 5: plain data and scalars read back; numpy arrays use _frombuffer, which SPEC does not allow', () => {
    expect(readPickle(python(['make', '5', 'plain'], new Uint8Array(0)), 'py-p5.pkl')).toEqual(expectedMade(false));
    const e = expectFormatError(() => readPickle(python(['make', '5', 'arrays'], new Uint8Array(0)), 'py-p5-arrays.pkl'), 'forbidden-global');
    expect(e.message).toContain('numpy.core.numeric._frombuffer');
  });

  test('writeNpy matches np.save byte for byte, for every dtype and object arrays; versions 2 and 3 load too', () => {
    const arrays = [
      new NpArray(f8, [5], Float64Array.of(0, 0.25, NaN, -0, 1e300)),
      new NpArray(f4, [2, 2], Float32Array.of(0.5, Math.fround(0.1), -1, 3)),
      new NpArray(new NpDtype('<i8'), [3], BigInt64Array.of(-1n, 2n ** 62n, 0n)),
      new NpArray(new NpDtype('<i4'), [1, 3, 1], Int32Array.of(-5, 0, 7)),
      new NpArray(new NpDtype('|b1'), [4], Uint8Array.of(1, 0, 0, 1)),
      new NpArray(new NpDtype('|u1'), [2], Uint8Array.of(0, 255)),
      new NpArray(f8, [], Float64Array.of(0.5)),
      new NpArray(new NpDtype('|O'), [], [new Map<string, PyValue>([['temp', [16, 24]], ['acc', new NpArray(f8, [2], Float64Array.of(1, NaN))]])]),
    ];
    for (const arr of arrays) {
      const v1 = writeNpy(arr);
      expect(Buffer.from(python(['npy-resave'], v1)).toString('hex')).toBe(Buffer.from(v1).toString('hex'));
      for (const version of [2, 3] as const) {
        expect(Buffer.compare(python(['npy-resave'], writeNpy(arr, { version })), v1)).toBe(0);
      }
    }
  });

  test.each([false, true])('writeNpz (compress: %s) loads in numpy without allow_pickle, CRCs intact', (compress) => {
    const arrays = new Map([
      ['tr_err', new NpArray(f8, [5], Float64Array.of(0, 0, 0.028000000000005798, 0, 0))],
      ['counts', new NpArray(new NpDtype('<i8'), [2, 2], BigInt64Array.of(1n, 2n, 3n, 4n))],
      ['flags', new NpArray(new NpDtype('|b1'), [2], Uint8Array.of(0, 1))],
    ]);
    const back = python(['npz-resave'], writeNpz(arrays, { compress }));
    expect(readNpz(back, 'resaved.npz')).toEqual(arrays);
  });

  test('an npz from np.savez_compressed (zip64 local headers, deflated, Fortran order) reads back', () => {
    const got = readNpz(python(['make', '3', 'npz'], new Uint8Array(0)), 'py.npz');
    expect(Array.from(got.get('tr_err')!.data as Float64Array)).toEqual([0, 0, 0.028000000000005798, 0, 0]);
    expect(Array.from(got.get('f')!.data as Float64Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(got.get('i')!.data).toEqual(BigInt64Array.of(0n, 1n, 2n));
    expect(readNpz(python(['make', '3', 'npz'], new Uint8Array(0)), 'py.npz', { only: ['i'] }).size).toBe(1);
    expect(readNpy(writeNpy(got.get('f')!), 'f.npy')).toEqual(got.get('f'));
  });
});
