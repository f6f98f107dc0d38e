/**
 * Writes `PyValue`s as CPython's `pickle.dumps` (with numpy loaded) writes them, for test fixtures and the
 * synthetic-data generator. Output loads in CPython + numpy and in `readPickle`.
 *
 * Why hand-written: no npm package writes pickles with numpy reductions. The layout follows CPython's
 * Lib/pickle.py (checked against `pickletools.dis`): containers are memoised before their items, tuples after,
 * dicts/lists use SETITEMS/APPENDS in batches of 1000 (SETITEM/APPEND for one item), ints take the smallest of
 * BININT1/BININT2/BININT/LONG1/LONG4, protocol 4+ frames the stream in 64 KiB frames and spells globals as
 * SHORT_BINUNICODE+STACK_GLOBAL+MEMOIZE. numpy values follow numpy's `__reduce__`: a scalar is
 * `multiarray.scalar(dtype, raw bytes)`, a dtype `numpy.dtype('f8', False, True)` + BUILD state, an array
 * `multiarray._reconstruct(ndarray, (0,), b'b')` + BUILD `(1, shape, dtype, False, raw bytes | list)`.
 * CPython memoises by object identity; here the value's strings are memoised by value and dtypes by their
 * `str`, which is what CPython does for values built in Python (interned keys, numpy's dtype singletons): the
 * published grid and dictionary files and the sample pickles come out byte for byte. Deliberate differences:
 * protocol 2 writes empty bytes as `_codecs.encode('', 'latin1')` (CPython: `__builtin__.bytes()`, a global
 * `readPickle` refuses), and protocol 5 arrays use `_reconstruct` too (numpy: `numeric._frombuffer`, which
 * SEMANTICS.md does not allow).
 *
 * JS numbers carry no int/float distinction: an integral number is written as a Python int, anything else
 * (fractions, NaN, infinities, -0) as a float. Wrap a number in `PyFloat` to force a float (`100.0`).
 */
import { UnwritableValueError } from '../errors.js';
import { checkWritableArray, rawBytesOf, specOf, SUPPORTED_DTYPES, type DtypeSpec } from '../ndarray.js';
import { OP } from './opcodes.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyKey, type PyValue } from '../values.js';

/** A number to be written as a Python float even when it is integral (`PyFloat(100)` → `100.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/**
 * A value that writes itself through `PickleSink`'s primitives instead of being built as a tree first: for
 * large regular values (a dataset of 1,690 nested dicts) whose tree costs more to build, keep alive and walk
 * than the bytes cost to write (measured: 36 ms to write a prebuilt tree, ~18 ms more to build it, against
 * single-digit ms streamed; bench/dictionary-npy.ts). `write` must write exactly one Python value. The bytes
 * are those of the tree it stands for: containers opened here are memoised and batched as `save` does.
 */
export class PyStream {
  constructor(readonly write: (sink: PickleSink) => void) {}
}

/** The writer's primitives, as a `PyStream` sees them. */
export interface PickleSink {
  /** Any value, as `writePickle` writes it (a JS number: int when integral, else float). */
  value(v: PickleInput): void;
  /** A Python float, integral or not (as `PyFloat`). */
  float(x: number): void;
  /** A str, memoised by value as the strings of a value tree are. */
  str(s: string): void;
  /** Opens a dict of `size` items: write each key then its value, then call `item()`, `size` times. */
  dict(size: number): void;
  /** Opens a list of `size` items: write each item, then call `item()`, `size` times. */
  list(size: number): void;
  /** Ends an item of the innermost open dict or list (closes its batch, and the container after its last). */
  item(): void;
  /** Builds a tuple of the `n` values written since `tupleMark()` (`n` as passed there). */
  tuple(n: number): void;
  /** Starts a tuple of `n` items (a MARK when `n` > 3, as `save` writes). */
  tupleMark(n: number): void;
  /** A copy of the memo as it stands here, to write what follows apart later (`writePickleFragment`). */
  memo(): PickleMemo;
  /** The number of bytes of the pickle written so far (protocols 2 and 3: from 4 on, frames move bytes). */
  offset(): number;
}

/**
 * What a writer's memo holds at some point of a pickle, as far as a later part written apart needs it:
 * the next memo index and the strs memoised by value there (those `str` and `value` find again).
 */
export interface PickleMemo {
  /** The next memo index. */
  size: number;
  /** Strs of 2 or more characters memoised by value, and their memo indices. */
  strs: Map<string, number>;
  /** Strs of 0 or 1 character (CPython's singletons, shared by every kind of str). */
  chars: Map<string, number>;
}

/**
 * What `writePickle` accepts: any `PyValue`, with `PyFloat` allowed anywhere a value may stand (inside lists,
 * dicts and tuples too; cast when TypeScript's `PyValue` containers object), and `PyStream`s.
 */
export type PickleInput = PyValue | PyFloat | PyStream | PickleInput[] | Map<PyKey, PickleInput>;

export interface WritePickleOptions {
  /** Pickle protocol, 2 to 5 (default 3, what Python 3.0-3.7 write by default). */
  protocol?: 2 | 3 | 4 | 5;
  /** Module prefix of numpy's reconstruction globals: numpy 1 writes `numpy.core`, numpy 2 `numpy._core`. */
  numpyModule?: 'numpy.core' | 'numpy._core';
}

const FRAME_TARGET = 64 * 1024;
const FRAME_MIN = 4;
/** Items per SETITEMS / APPENDS batch (CPython's `_BATCHSIZE`). */
export const PICKLE_BATCH = 1000;
/** numpy passes one cached `b'b'` to every `_reconstruct`, so CPython memoises it once. */
const RECONSTRUCT_TYPECODE = new Uint8Array([0x62]);
const encoder = new TextEncoder();

/** Serialises `value` as a pickle. Throws `UnwritableValueError` for values outside `PickleInput`. */
export function writePickle(value: PickleInput, opts: WritePickleOptions = {}): Uint8Array {
  const protocol = opts.protocol ?? 3;
  if (![2, 3, 4, 5].includes(protocol)) throw new UnwritableValueError('', `protocol ${protocol} is not one of 2, 3, 4, 5`);
  const w = new PickleWriter(protocol, opts.numpyModule ?? 'numpy.core');
  return w.dump(value);
}

/**
 * The bytes `write` gives (any number of values, through the sink's primitives) where a protocol 2 or 3
 * pickle's writer stood at `memo`: the same bytes the whole pickle has there, so that a part of a pickle
 * can be written again on its own (dataset/dictionary-npy.ts patches dictionary.npy this way). `memo` is
 * updated as the writer goes: its size, and the strs it memoises. Protocols 4 and 5 are refused (frames
 * depend on what came before), and so are values whose memo entries `PickleMemo` does not hold (globals,
 * hence numpy values and protocol 2's bytes): `UnwritableValueError`. Objects memoised by identity (a
 * `Map` or array passed to `value` twice) are shared within the fragment only: a fragment must not repeat
 * an object written before it (streams' `dict`/`list` containers are never shared, nor are numbers).
 */
export function writePickleFragment(write: (sink: PickleSink) => void, memo: PickleMemo, protocol: 2 | 3 = 3): Uint8Array {
  if (protocol !== 2 && protocol !== 3) throw new UnwritableValueError('', `a fragment is written in protocol 2 or 3, not ${protocol as number}`);
  const w = new PickleWriter(protocol, 'numpy.core', memo);
  return w.fragment(write, memo);
}

/** An open dict or list: its size, items written so far, and the size of the open batch. */
interface OpenContainer {
  size: number;
  done: number;
  batch: number;
  setOp: number;
  oneOp: number;
}

class PickleWriter implements PickleSink {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  /** Where the open frame's 9-byte FRAME header was reserved, or -1 (protocol < 4, or no frame open). */
  private frameAt = -1;
  private readonly framing: boolean;
  private readonly objMemo = new Map<object, number>();
  /** Strings of the value itself, memoised by value (CPython: by identity; equal user strings are usually one object). */
  private readonly strMemo: Map<string, number>;
  /** Module and global names and 'latin1': CPython's are interned objects of their own, not shared with the data's. */
  private readonly internalMemo = new Map<string, number>();
  /** Strings of 0 or 1 character, which CPython caches as singletons shared by everything. */
  private readonly charMemo: Map<string, number>;
  private readonly globalMemo = new Map<string, number>();
  private readonly dtypeMemo = new Map<string, number>();
  private memoSize: number;
  /** Writing a fragment (`writePickleFragment`): its memo knows no globals. */
  private readonly fragmentOnly: boolean;
  /** Where the writer is, as the list indices and dict keys leading there, formatted only for an error message. */
  private readonly path: PyKey[] = [];
  private readonly open: OpenContainer[] = [];

  constructor(
    private readonly protocol: number,
    private readonly numpyModule: string,
    /** Where a fragment starts: its maps are used (and updated) in place. */
    resume?: PickleMemo,
  ) {
    this.framing = protocol >= 4;
    this.memoSize = resume?.size ?? 0;
    this.strMemo = resume?.strs ?? new Map();
    this.charMemo = resume?.chars ?? new Map();
    this.fragmentOnly = resume !== undefined;
  }

  dump(value: PickleInput): Uint8Array {
    this.byte(OP.PROTO);
    this.byte(this.protocol);
    if (this.framing) this.openFrame();
    this.save(value);
    this.byte(OP.STOP);
    if (this.framing) this.commitFrame();
    return this.buf.slice(0, this.pos);
  }

  fragment(write: (sink: PickleSink) => void, memo: PickleMemo): Uint8Array {
    write(this);
    memo.size = this.memoSize;
    return this.buf.slice(0, this.pos);
  }

  offset(): number {
    return this.pos;
  }

  memo(): PickleMemo {
    return { size: this.memoSize, strs: new Map(this.strMemo), chars: new Map(this.charMemo) };
  }

  // ---------------------------------------------------------------- output

  private ensure(k: number): void {
    if (this.pos + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  private u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  private u64(v: number): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }

  private ascii(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  // ---------------------------------------------------------------- framing (protocol 4+)

  private openFrame(): void {
    this.ensure(9);
    this.frameAt = this.pos;
    this.pos += 9;
  }

  /** Closes the open frame: writes its header, or drops the reserved header when the frame is tiny (as CPython). */
  private commitFrame(): void {
    const start = this.frameAt + 9;
    const len = this.pos - start;
    if (len >= FRAME_MIN) {
      this.buf[this.frameAt] = OP.FRAME;
      this.view.setBigUint64(this.frameAt + 1, BigInt(len), true);
    } else {
      this.buf.copyWithin(this.frameAt, start, this.pos);
      this.pos -= 9;
    }
    this.frameAt = -1;
  }

  /** CPython commits a frame at the start of saving an object once the frame reached 64 KiB. */
  private frameBoundary(): void {
    if (this.framing && this.pos - (this.frameAt + 9) >= FRAME_TARGET) {
      this.commitFrame();
      this.openFrame();
    }
  }

  /** Large payloads go outside frames, directly after the closed frame (CPython's write_large_bytes). */
  private largePayload(header: () => void, payload: Uint8Array): void {
    if (this.framing && payload.length >= FRAME_TARGET) {
      this.commitFrame();
      header();
      this.bytes(payload);
      this.openFrame();
    } else {
      header();
      this.bytes(payload);
    }
  }

  // ---------------------------------------------------------------- memo

  private memoize(): number {
    const i = this.memoSize++;
    if (this.protocol >= 4) this.byte(OP.MEMOIZE);
    else if (i < 256) {
      this.ensure(2);
      this.buf[this.pos++] = OP.BINPUT;
      this.buf[this.pos++] = i;
    } else {
      this.byte(OP.LONG_BINPUT);
      this.u32(i);
    }
    return i;
  }

  private get(i: number): void {
    if (i < 256) {
      this.ensure(2);
      this.buf[this.pos++] = OP.BINGET;
      this.buf[this.pos++] = i;
    } else {
      this.byte(OP.LONG_BINGET);
      this.u32(i);
    }
  }

  // ---------------------------------------------------------------- values

  private save(v: PickleInput): void {
    this.frameBoundary();
    if (v === null) return this.byte(OP.NONE);
    switch (typeof v) {
      case 'boolean':
        return this.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
      case 'number':
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) return this.int(v);
        return this.saveFloat(v);
      case 'bigint':
        return this.int(v);
      case 'string':
        return this.saveStr(v);
      case 'object':
        break;
      default:
        throw new UnwritableValueError(this.where(), `a ${typeof v} is not a Python value`);
    }
    if (v instanceof PyFloat) return this.saveFloat(v.value);
    if (v instanceof PyStream) return v.write(this);
    const seen = this.objMemo.get(v);
    if (seen !== undefined) return this.get(seen);
    if (v instanceof Uint8Array) return this.pyBytes(v);
    if (Array.isArray(v)) return this.saveList(v);
    if (v instanceof Map) return this.saveDict(v);
    if (v instanceof PyTuple) return this.saveTuple(v.items as readonly PickleInput[], v);
    if (v instanceof NpScalar) return this.npScalar(v);
    if (v instanceof NpDtype) return this.npDtype(v);
    if (v instanceof NpArray) return this.npArray(v);
    throw new UnwritableValueError(this.where(), `a ${(v as object).constructor?.name ?? "object"} is not a Python value (see PickleInput)`);
  }

  private int(v: number | bigint): void {
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) {
      if (v >= 0 && v <= 0xff) {
        this.byte(OP.BININT1);
        this.byte(v);
      } else if (v >= 0 && v <= 0xffff) {
        this.byte(OP.BININT2);
        this.u16(v);
      } else {
        this.byte(OP.BININT);
        this.ensure(4);
        this.view.setInt32(this.pos, v, true);
        this.pos += 4;
      }
      return;
    }
    const b = BigInt(v);
    if (b >= -0x80000000n && b <= 0x7fffffffn) return this.int(Number(b));
    const enc = encodeLong(b);
    if (enc.length < 256) {
      this.byte(OP.LONG1);
      this.byte(enc.length);
    } else {
      this.byte(OP.LONG4);
      this.u32(enc.length);
    }
    this.bytes(enc);
  }

  // ---------------------------------------------------------------- PickleSink

  value(v: PickleInput): void {
    this.save(v);
  }

  // Each value starts where `save` would check for a frame boundary (protocol 4+), so frames fall alike.
  // float and str are inlined by hand (the most frequent values and keys): a process writing one dataset
  // runs much of it before V8 optimises, where each call costs (first call of dictionary.npy: see bench).
  float(x: number): void {
    if (this.framing) this.frameBoundary();
    if (this.pos + 9 > this.buf.length) this.ensure(9);
    this.buf[this.pos] = OP.BINFLOAT;
    this.view.setFloat64(this.pos + 1, x, false);
    this.pos += 9;
  }

  str(s: string): void {
    if (this.framing) this.frameBoundary();
    const seen = (s.length <= 1 ? this.charMemo : this.strMemo).get(s);
    if (seen === undefined) this.saveStr(s);
    else if (seen < 256 && this.pos + 2 <= this.buf.length) {
      this.buf[this.pos++] = OP.BINGET;
      this.buf[this.pos++] = seen;
    } else this.get(seen);
  }

  dict(size: number): void {
    this.frameBoundary();
    this.byte(OP.EMPTY_DICT);
    this.memoize();
    this.openContainer(size, OP.SETITEMS, OP.SETITEM);
  }

  list(size: number): void {
    this.frameBoundary();
    this.byte(OP.EMPTY_LIST);
    this.memoize();
    this.openContainer(size, OP.APPENDS, OP.APPEND);
  }

  /** CPython's batch_setitems / batch_appends: batches of PICKLE_BATCH items, MARK ... SETITEMS, or one SETITEM. */
  private openContainer(size: number, setOp: number, oneOp: number): void {
    if (size === 0) return;
    const batch = Math.min(PICKLE_BATCH, size);
    if (batch > 1) this.byte(OP.MARK);
    this.open.push({ size, done: 0, batch, setOp, oneOp });
  }

  item(): void {
    const c = this.open[this.open.length - 1];
    c.done++;
    if (c.done % PICKLE_BATCH !== 0 && c.done !== c.size) return;
    this.byte(c.batch > 1 ? c.setOp : c.oneOp);
    if (c.done === c.size) {
      this.open.pop();
      return;
    }
    c.batch = Math.min(PICKLE_BATCH, c.size - c.done);
    if (c.batch > 1) this.byte(OP.MARK);
  }

  tupleMark(n: number): void {
    this.frameBoundary();
    if (n > 3) this.byte(OP.MARK);
  }

  tuple(n: number): void {
    if (n === 0) return this.byte(OP.EMPTY_TUPLE);
    this.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : n === 3 ? OP.TUPLE3 : OP.TUPLE);
    this.memoize();
  }

  private saveFloat(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = OP.BINFLOAT;
    this.view.setFloat64(this.pos + 1, v, false);
    this.pos += 9;
  }

  /**
   * A str. CPython memoises by object identity; `kind` says which strings are the same object there:
   * 'user' strings of the value are shared by value, 'internal' ones (module/global names, 'latin1') among
   * themselves, 'fresh' ones (numpy's dtype names, protocol 2's latin1 text of bytes) are new objects each
   * time; strings of 0 or 1 character are cached singletons shared by all.
   */
  private saveStr(s: string, kind: 'user' | 'internal' | 'fresh' = 'user'): void {
    const memo = s.length <= 1 ? this.charMemo : kind === 'user' ? this.strMemo : kind === 'internal' ? this.internalMemo : null;
    const seen = memo?.get(s);
    if (seen !== undefined) return this.get(seen);
    if (s.length < 256 && this.asciiStr(s)) {
      const i = this.memoize(); // always memoised, recorded only where CPython would find the same object
      memo?.set(s, i);
      return;
    }
    const b = encoder.encode(s);
    const header = (): void => {
      if (this.protocol >= 4 && b.length < 256) {
        this.byte(OP.SHORT_BINUNICODE);
        this.byte(b.length);
      } else if (b.length <= 0xffffffff) {
        this.byte(OP.BINUNICODE);
        this.u32(b.length);
      } else {
        this.byte(OP.BINUNICODE8);
        this.u64(b.length);
      }
    };
    this.largePayload(header, b);
    const i = this.memoize();
    memo?.set(s, i);
  }

  /**
   * Writes a string shorter than 256 characters straight into the buffer when it is all ASCII (UTF-8 bytes =
   * char codes), with the header `str` would give it, skipping `TextEncoder`'s allocation: most strings of a
   * dataset are short ASCII keys and labels. False, having written nothing, otherwise. Never a large payload.
   */
  private asciiStr(s: string): boolean {
    const n = s.length;
    const short = this.protocol >= 4;
    const head = short ? 2 : 5;
    this.ensure(head + n);
    const buf = this.buf;
    const at = this.pos + head;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      buf[at + i] = c;
    }
    if (short) {
      buf[this.pos] = OP.SHORT_BINUNICODE;
      buf[this.pos + 1] = n;
    } else {
      buf[this.pos] = OP.BINUNICODE;
      this.view.setUint32(this.pos + 1, n, true);
    }
    this.pos = at + n;
    return true;
  }

  private pyBytes(b: Uint8Array): void {
    if (this.protocol < 3) {
      // Protocol 2 has no bytes opcode: Python 3 writes _codecs.encode(latin1 text, 'latin1').
      this.global('_codecs', 'encode');
      let text = '';
      for (let i = 0; i < b.length; i += 4096) text += String.fromCharCode(...b.subarray(i, i + 4096));
      this.saveStr(text, 'fresh');
      this.saveStr('latin1', 'internal');
      this.byte(OP.TUPLE2);
      this.memoize();
      this.byte(OP.REDUCE);
    } else {
      const header = (): void => {
        if (b.length < 256) {
          this.byte(OP.SHORT_BINBYTES);
          this.byte(b.length);
        } else if (b.length <= 0xffffffff) {
          this.byte(OP.BINBYTES);
          this.u32(b.length);
        } else {
          this.byte(OP.BINBYTES8);
          this.u64(b.length);
        }
      };
      this.largePayload(header, b);
    }
    this.objMemo.set(b, this.memoize());
  }

  private saveList(list: readonly PickleInput[]): void {
    this.objMemo.set(list, this.memoSize);
    this.list(list.length);
    for (let j = 0; j < list.length; j++) {
      this.child(j, list[j]);
      this.item();
    }
  }

  private saveDict(d: Map<PyKey, PickleInput>): void {
    this.objMemo.set(d, this.memoSize);
    this.dict(d.size);
    // forEach rather than entries(): no [key, value] array per item (~10% of writing a dictionary.npy).
    d.forEach((v, k) => {
      const t = typeof k;
      if (!(k === null || t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean')) {
        this.path.push(k);
        throw new UnwritableValueError(this.where(), `a dict key must be str, int, float, bool or None, not ${t}`);
      }
      this.child(k, k);
      this.child(k, v);
      this.item();
    });
  }

  /** A tuple; `identity` is the object memoised for it (absent for tuples made here, e.g. numpy's args). */
  private saveTuple(items: readonly PickleInput[], identity?: object): void {
    if (items.length === 0) return this.byte(OP.EMPTY_TUPLE);
    const n = items.length;
    if (n > 3) this.byte(OP.MARK);
    for (let i = 0; i < n; i++) this.child(i, items[i]);
    this.byte(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : n === 3 ? OP.TUPLE3 : OP.TUPLE);
    const i = this.memoize();
    if (identity !== undefined) this.objMemo.set(identity, i);
  }

  /** Saves `v`, found at list index / dict key `at` of the value being saved. */
  private child(at: PyKey, v: PickleInput): void {
    this.path.push(at);
    this.save(v);
    this.path.pop();
  }

  /** The path for a message: `[3]["key"]` (list indices and non-str keys bare, str keys quoted). */
  private where(): string {
    return this.path.map((k) => `[${typeof k === 'string' ? JSON.stringify(k) : String(k)}]`).join('');
  }

  private global(module: string, name: string): void {
    if (this.fragmentOnly) throw new UnwritableValueError(this.where(), `a pickle fragment cannot write globals (${module}.${name}): its memo does not hold them`);
    const key = `${module} ${name}`;
    const seen = this.globalMemo.get(key);
    if (seen !== undefined) return this.get(seen);
    if (this.protocol >= 4) {
      this.saveStr(module, 'internal');
      this.saveStr(name, 'internal');
      this.byte(OP.STACK_GLOBAL);
    } else {
      this.byte(OP.GLOBAL);
      this.ascii(`${module}\n${name}\n`);
    }
    this.globalMemo.set(key, this.memoize());
  }

  // ---------------------------------------------------------------- numpy

  private spec(dtype: NpDtype): DtypeSpec {
    const spec = specOf(dtype);
    if (spec === undefined) throw new UnwritableValueError(this.where(), `dtype ${dtype.str} is not supported (supported: ${SUPPORTED_DTYPES})`);
    return spec;
  }

  private npDtype(dtype: NpDtype): void {
    const spec = this.spec(dtype);
    const seen = this.dtypeMemo.get(spec.str);
    if (seen !== undefined) return this.get(seen);
    this.global('numpy', 'dtype');
    this.saveStr(spec.reduceName, 'fresh');
    this.byte(OP.NEWFALSE);
    this.byte(OP.NEWTRUE);
    this.byte(OP.TUPLE3);
    this.memoize();
    this.byte(OP.REDUCE);
    this.dtypeMemo.set(spec.str, this.memoize());
    this.saveTuple([3, spec.stateOrder, null, null, null, -1, -1, spec.stateFlags]);
    this.byte(OP.BUILD);
  }

  private npScalar(s: NpScalar): void {
    const spec = this.spec(s.dtype);
    const raw = new Uint8Array(spec.itemsize);
    const view = new DataView(raw.buffer);
    const v = s.value;
    const bad = (what: string): never => {
      throw new UnwritableValueError(this.where(), `a ${spec.str} scalar needs ${what}, got ${typeof v} ${String(v)}`);
    };
    switch (spec.str) {
      case '<f8':
        if (typeof v !== 'number') bad('a number');
        view.setFloat64(0, v as number, true);
        break;
      case '<f4':
        if (typeof v !== 'number' || !(Math.fround(v) === v || Number.isNaN(v))) bad('a float32 value (use Math.fround)');
        view.setFloat32(0, v as number, true);
        break;
      case '<i8':
        if (typeof v === 'boolean' || (typeof v === 'number' && !Number.isSafeInteger(v))) bad('an integer');
        if (BigInt(v as number | bigint) !== BigInt.asIntN(64, BigInt(v as number | bigint))) bad('a value in int64 range');
        view.setBigInt64(0, BigInt(v as number | bigint), true);
        break;
      case '<i4':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) bad('an int32');
        view.setInt32(0, v as number, true);
        break;
      case '|u1':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) bad('an integer 0..255');
        raw[0] = v as number;
        break;
      case '|b1':
        if (typeof v !== 'boolean') bad('a boolean');
        raw[0] = v ? 1 : 0;
        break;
      default:
        bad('a non-object dtype');
    }
    this.global(`${this.numpyModule}.multiarray`, 'scalar');
    this.saveTuple([s.dtype, raw]);
    this.byte(OP.REDUCE);
    this.objMemo.set(s, this.memoize());
  }

  private npArray(arr: NpArray): void {
    const spec = checkWritableArray(arr, this.where());
    this.global(`${this.numpyModule}.multiarray`, '_reconstruct');
    this.global('numpy', 'ndarray');
    this.saveTuple([0]);
    this.save(RECONSTRUCT_TYPECODE);
    this.byte(OP.TUPLE3);
    this.memoize();
    this.byte(OP.REDUCE);
    this.objMemo.set(arr, this.memoize());
    const data: PickleInput = spec.itemsize === 0 ? (arr.data as PyValue[]) : rawBytesOf(arr);
    this.saveTuple([1, new PyTuple(arr.shape as number[]), arr.dtype, false, data]);
    this.byte(OP.BUILD);
  }
}

/** Python's `pickle.encode_long`: minimal little-endian two's complement bytes. */
function encodeLong(x: bigint): Uint8Array {
  if (x === 0n) return new Uint8Array(0);
  const bitLength = (x < 0n ? -x : x).toString(2).length;
  let nbytes = (bitLength >> 3) + 1;
  const out = new Uint8Array(nbytes);
  let u = BigInt.asUintN(nbytes * 8, x);
  for (let i = 0; i < nbytes; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  if (x < 0n && nbytes > 1 && out[nbytes - 1] === 0xff && (out[nbytes - 2] & 0x80) !== 0) nbytes--;
  return out.subarray(0, nbytes);
}

/**
 * Concatenates opcodes and arguments into raw pickle bytes, for tests that need pickles no writer would make
 * (hostile globals, bad lengths, truncation). Numbers are single bytes (use `OP.*`), strings are written as
 * latin1 bytes, arrays and Uint8Arrays verbatim.
 *
 * @example rawPickle(OP.PROTO, 2, OP.GLOBAL, 'posix\nsystem\n', OP.SHORT_BINUNICODE, 4, 'true', OP.TUPLE1, OP.REDUCE, OP.STOP)
 */
export function rawPickle(...parts: (number | string | Uint8Array | readonly number[])[]): Uint8Array {
  const chunks: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') chunks.push(p & 0xff);
    else if (typeof p === 'string') for (let i = 0; i < p.length; i++) chunks.push(p.charCodeAt(i) & 0xff);
    else chunks.push(...p);
  }
  return Uint8Array.from(chunks);
}

/** Little-endian bytes of an unsigned 32-bit number, for `rawPickle` length fields. */
export function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
