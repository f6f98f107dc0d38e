/**
 * A restricted unpickler: Python pickle protocols 2 to 5 holding plain data (dict, list,
 * tuple, int, float, str, bytes, bool, None) and numpy scalars, dtypes and arrays.
 *
 * Why not a library. `pickleparser` (npm 0.2.1, Dec 2024, pure TypeScript) was evaluated on the sample files
 * and on hand-made pickles; it parses the five sample pickles, and its NameRegistry can be made to throw on
 * every unknown global before anything is built, but:
 *  - a negative BINBYTES length moves its read position backwards: an 8-byte file makes it loop forever;
 *  - LONG1/LONG4 are read as unsigned (-1 comes back as 255), so negative big ints are wrong;
 *  - tuples and lists both become arrays, while mdpipe's value model tells them apart (`PyTuple`);
 *  - no limits at all (memo size, nesting, elements, bytes), and its errors are untyped `Error`s without the
 *    file or offset; a missing memo entry silently yields `undefined`, stack underflow yields `undefined`;
 *  - numpy reconstruction would have to be bolted on through callables and `__setstate__` hooks anyway.
 * Patching all of that leaves little of the library, so this is a purpose-built reader. Speed did not decide
 * it: in a one-off comparison both read the five pickles of a checkpoint folder in roughly 100 µs.
 *
 * Safety. Globals are resolved only from a fixed table (SEMANTICS.md "Reading the raw files safely"); any
 * other global is a `FormatError('forbidden-global')` at the GLOBAL/STACK_GLOBAL opcode itself, before any
 * argument is read, and nothing is ever imported, executed or looked up dynamically. Every length field is
 * checked against the bytes left before anything is allocated, and `ReadLimits` bounds memo size, nesting,
 * elements and bytes. The reader is iterative (no recursion), so a deep file cannot overflow the JS stack;
 * the finished value is then checked for depth and cycles by `checkStructure`.
 */
import { asciiOrNull } from '../ascii.js';
import { FormatError, type FormatErrorReason } from '../errors.js';
import { resolveLimits, type ReadLimits } from '../limits.js';
import {
  decodeRawData,
  dtypeSpecFromReduceName,
  fortranToC,
  specOf,
  SUPPORTED_DTYPES,
  type DtypeSpec,
} from '../ndarray.js';
import { OP, opName } from './opcodes.js';
import { checkStructure } from './structure.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyDict, type PyKey, type PyValue } from '../values.js';

export type { ReadLimits } from '../limits.js';

type GlobalKind = 'scalar' | 'dtype' | 'reconstruct' | 'ndarray' | 'encode';

/** A resolved, allowed global (the only callables a pickle can reach). Never part of a returned value. */
export class AllowedGlobal {
  constructor(
    readonly kind: GlobalKind,
    /** `module.name` as the file spelled it, for messages. */
    readonly qualname: string,
  ) {}
}

/** The complete allowlist (SEMANTICS.md "Reading the raw files safely"); keyed `module name`. */
const ALLOWED = new Map<string, AllowedGlobal>(
  (
    [
      ['numpy.core.multiarray', 'scalar', 'scalar'],
      ['numpy._core.multiarray', 'scalar', 'scalar'],
      ['numpy', 'dtype', 'dtype'],
      ['numpy.core.multiarray', '_reconstruct', 'reconstruct'],
      ['numpy._core.multiarray', '_reconstruct', 'reconstruct'],
      ['numpy', 'ndarray', 'ndarray'],
      ['_codecs', 'encode', 'encode'],
    ] as const
  ).map(([m, n, kind]) => [`${m} ${n}`, new AllowedGlobal(kind, `${m}.${n}`)]),
);

const ALLOWED_TEXT = 'only numpy scalar/dtype/ndarray reconstruction and _codecs.encode are allowed';

/**
 * The value of the pickle in `bytes` (protocol 2 to 5; it must start with a PROTO opcode).
 *
 * Python values map to `PyValue` (values.ts): int → number, or bigint beyond 2^53; float → number; str →
 * string; bytes/bytearray → Uint8Array (a view into `bytes`, not a copy: copy it if you reuse the buffer);
 * list → array; tuple → PyTuple; dict → Map; numpy scalars, dtypes and arrays → NpScalar, NpDtype, NpArray
 * (array data is always copied, in C order). A float32 scalar keeps its exact value with dtype `<f4`.
 *
 * @param file   the path as the user knows it; every error message starts with it
 * @param limits bounds on depth, memo, elements and bytes (defaults in limits.ts)
 * @throws FormatError for every problem with the bytes: `forbidden-global` for any global outside the
 *   allowlist, `truncated`, `limit-exceeded`, `bad-structure`, `unsupported-opcode`, ...
 */
export function readPickle(bytes: Uint8Array, file: string, limits?: Partial<ReadLimits>): PyValue {
  return parsePickle(bytes, file, limits, 0).value;
}

/**
 * Parses one pickle starting at `start` and says where it ended (the byte after STOP). Bytes after STOP are
 * not read, as in Python; callers that embed a pickle (.npy object arrays) check what follows themselves.
 */
export function parsePickle(
  bytes: Uint8Array,
  file: string,
  limits: Partial<ReadLimits> | undefined,
  start: number,
): { value: PyValue; end: number } {
  return new Unpickler(bytes, file, resolveLimits(limits), start).run();
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO32 = 2 ** 32;

/** The parser state of one pickle. A class so the hot loop reads fields of one object with a stable shape. */
class Unpickler {
  private readonly view: DataView;
  private readonly n: number;
  private pos: number;
  /** Where the opcode being executed started, for messages. */
  private at = 0;
  private op = 0;
  private readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private markBase = 0;
  /** Memo entries at dense indices 0..n-1 (what picklers write); `memoSparse` takes any other index. */
  private readonly memo: unknown[] = [];
  private memoSparse: Map<number, unknown> | null = null;
  private memoCount = 0;
  private elements = 0;
  private allocated = 0;
  /** True once a container may be referenced twice (memo get or DUP): the result may then be a DAG or cyclic. */
  private shared = false;
  /** Arrays made by `_reconstruct` and not yet given their data by BUILD. */
  private pending: Set<NpArray> | null = null;

  private readonly bytes: Uint8Array;

  constructor(
    input: Uint8Array,
    private readonly file: string,
    private readonly limits: ReadLimits,
    start: number,
  ) {
    // A plain Uint8Array view even when given a Node Buffer: Buffer#subarray is several times slower.
    this.bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    this.n = input.length;
    this.pos = start;
  }

  run(): { value: PyValue; end: number } {
    const { bytes, n, stack } = this;
    if (this.pos >= n) {
      if (this.pos === 0) this.fail('empty', 'the file is empty (0 bytes)');
      this.fail('truncated', `no pickle at byte ${this.pos}: the data ends there`);
    }
    if (bytes[this.pos] !== OP.PROTO) {
      this.fail(
        'bad-magic',
        `does not start with a pickle protocol header (byte ${this.pos} is 0x${bytes[this.pos].toString(16).padStart(2, '0')}, not 0x80): not a pickle of protocol 2 to 5`,
        'check that the path names a .pkl file written by pickle.dump with protocol 2 or higher',
      );
    }
    for (;;) {
      if (this.pos >= n) {
        this.at = this.pos;
        this.fail('truncated', `truncated at byte ${n}: the pickle ends before its STOP opcode`);
      }
      this.at = this.pos;
      const op = (this.op = bytes[this.pos++]);
      switch (op) {
        case OP.PROTO: {
          this.need(1);
          const version = bytes[this.pos++];
          if (version < 2 || version > 5) {
            this.fail('unsupported', `pickle protocol ${version} at byte ${this.at} (only protocols 2 to 5 are read)`,
              version > 5 ? 'the file needs a newer reader: re-save it with protocol 5 or lower' : undefined);
          }
          break;
        }
        case OP.FRAME: {
          const len = this.u64();
          if (len > n - this.pos) this.truncatedBy(len, 'FRAME announces');
          break;
        }
        case OP.STOP:
          return this.stop();

        // --- constants and numbers
        case OP.NONE:
          stack.push(null);
          break;
        case OP.NEWTRUE:
          stack.push(true);
          break;
        case OP.NEWFALSE:
          stack.push(false);
          break;
        case OP.BININT1:
          this.need(1);
          stack.push(bytes[this.pos++]);
          break;
        case OP.BININT2:
          this.need(2);
          stack.push(bytes[this.pos] | (bytes[this.pos + 1] << 8));
          this.pos += 2;
          break;
        case OP.BININT:
          this.need(4);
          stack.push(this.view.getInt32(this.pos, true));
          this.pos += 4;
          break;
        case OP.LONG1: {
          this.need(1);
          const len = bytes[this.pos++];
          stack.push(this.long(len));
          break;
        }
        case OP.LONG4: {
          this.need(4);
          const len = this.view.getInt32(this.pos, true);
          this.pos += 4;
          if (len < 0) this.fail('bad-structure', `LONG4 at byte ${this.at} has a negative length (${len})`);
          stack.push(this.long(len));
          break;
        }
        case OP.BINFLOAT:
          this.need(8);
          stack.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;

        // --- strings and bytes
        case OP.SHORT_BINUNICODE:
          this.need(1);
          stack.push(this.str(bytes[this.pos++]));
          break;
        case OP.BINUNICODE:
          this.need(4);
          stack.push(this.str(this.u32()));
          break;
        case OP.BINUNICODE8:
          stack.push(this.str(this.u64()));
          break;
        case OP.SHORT_BINBYTES:
          this.need(1);
          stack.push(this.raw(bytes[this.pos++]));
          break;
        case OP.BINBYTES:
          this.need(4);
          stack.push(this.raw(this.u32()));
          break;
        case OP.BINBYTES8:
        case OP.BYTEARRAY8:
          stack.push(this.raw(this.u64()));
          break;
        case OP.READONLY_BUFFER:
          // Only meaningful for out-of-band buffers; on in-band bytes it changes nothing we model.
          if (!(this.peek() instanceof Uint8Array)) this.fail('bad-structure', `READONLY_BUFFER at byte ${this.at} applies to a ${describe(this.peek())}, not to bytes`);
          break;

        // --- stack and memo
        case OP.MARK:
          if (this.marks.length >= this.limits.maxDepth) {
            this.limit('maxDepth', this.limits.maxDepth, `more than ${this.limits.maxDepth} nested MARKs`);
          }
          this.marks.push(stack.length);
          this.markBase = stack.length;
          break;
        case OP.POP:
          if (stack.length > this.markBase) stack.pop();
          else if (this.marks.length > 0) this.popMark();
          else this.underflow(1);
          break;
        case OP.POP_MARK:
          this.requireMark();
          stack.length = this.markBase;
          this.popMark();
          break;
        case OP.DUP: {
          const top = this.peek();
          if (isContainer(top)) this.shared = true;
          stack.push(top);
          break;
        }
        case OP.BINPUT:
          this.need(1);
          this.put(bytes[this.pos++]);
          break;
        case OP.LONG_BINPUT:
          this.need(4);
          this.put(this.u32());
          break;
        case OP.MEMOIZE:
          this.put(this.memoCount);
          break;
        case OP.BINGET:
          this.need(1);
          this.get(bytes[this.pos++]);
          break;
        case OP.LONG_BINGET:
          this.need(4);
          this.get(this.u32());
          break;

        // --- containers
        case OP.EMPTY_LIST:
          stack.push([]);
          break;
        case OP.EMPTY_DICT:
          stack.push(new Map());
          break;
        case OP.EMPTY_TUPLE:
          stack.push(new PyTuple([]));
          break;
        case OP.TUPLE1: {
          const a = this.pop();
          stack.push(new PyTuple([a as PyValue]));
          this.count(1);
          break;
        }
        case OP.TUPLE2: {
          if (stack.length - this.markBase < 2) this.underflow(2);
          const b = stack.pop();
          const a = stack.pop();
          stack.push(new PyTuple([a as PyValue, b as PyValue]));
          this.count(2);
          break;
        }
        case OP.TUPLE3: {
          if (stack.length - this.markBase < 3) this.underflow(3);
          const c = stack.pop();
          const b = stack.pop();
          const a = stack.pop();
          stack.push(new PyTuple([a as PyValue, b as PyValue, c as PyValue]));
          this.count(3);
          break;
        }
        case OP.TUPLE: {
          const items = this.popToMark();
          stack.push(new PyTuple(items as PyValue[]));
          this.count(items.length);
          break;
        }
        case OP.LIST: {
          const items = this.popToMark();
          stack.push(items);
          this.count(items.length);
          break;
        }
        case OP.DICT: {
          const items = this.popToMark();
          const d: PyDict = new Map();
          this.setItems(d, items);
          stack.push(d);
          break;
        }
        case OP.APPEND: {
          const v = this.pop();
          const list = this.peek();
          if (!Array.isArray(list)) this.notA('list', list);
          list.push(v);
          this.count(1);
          break;
        }
        case OP.APPENDS: {
          // Read in place, not through popToMark's copy: APPENDS and SETITEMS are most of a metric file's
          // opcodes, and the copies were ~17 MB of garbage in a cold build.
          const base = this.closeMark();
          const list = stack[base - 1];
          if (!Array.isArray(list)) this.notA('list', list);
          for (let i = base; i < stack.length; i++) list.push(stack[i]);
          this.count(stack.length - base);
          stack.length = base;
          break;
        }
        case OP.SETITEM: {
          if (stack.length - this.markBase < 3) this.underflow(3);
          const v = stack.pop();
          const k = stack.pop();
          const d = stack[stack.length - 1];
          if (!(d instanceof Map)) this.notA('dict', d);
          d.set(this.key(k), v);
          this.count(1);
          break;
        }
        case OP.SETITEMS: {
          const base = this.closeMark();
          const d = stack[base - 1];
          if (!(d instanceof Map)) this.notA('dict', d);
          this.setItems(d as PyDict, stack, base);
          stack.length = base;
          break;
        }

        // --- globals and object construction
        case OP.GLOBAL: {
          const module = this.line();
          const name = this.line();
          stack.push(this.resolve(module, name));
          break;
        }
        case OP.STACK_GLOBAL: {
          if (stack.length - this.markBase < 2) this.underflow(2);
          const name = stack.pop();
          const module = stack.pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            this.fail('bad-structure', `STACK_GLOBAL at byte ${this.at} needs two strings, got ${describe(module)} and ${describe(name)}`);
          }
          stack.push(this.resolve(module, name));
          break;
        }
        case OP.REDUCE: {
          if (stack.length - this.markBase < 2) this.underflow(2);
          const args = stack.pop();
          const fn = stack.pop();
          if (!(fn instanceof AllowedGlobal)) this.fail('bad-structure', `REDUCE at byte ${this.at} calls a ${describe(fn)}, which is not callable`);
          if (!(args instanceof PyTuple)) this.fail('bad-structure', `REDUCE at byte ${this.at} passes a ${describe(args)} to ${fn.qualname} instead of an argument tuple`);
          stack.push(this.call(fn, args.items));
          break;
        }
        case OP.BUILD: {
          if (stack.length - this.markBase < 2) this.underflow(2);
          const state = stack.pop();
          this.build(stack[stack.length - 1], state);
          break;
        }

        // --- deliberately unsupported
        case OP.EMPTY_SET:
        case OP.ADDITEMS:
        case OP.FROZENSET:
          this.unsupportedOp('Python sets are not supported (plain data and numpy values only)');
          break;
        case OP.NEWOBJ:
        case OP.NEWOBJ_EX:
        case OP.OBJ:
        case OP.INST:
          this.unsupportedOp('class instances are not supported (plain data and numpy values only; numpy values use REDUCE)');
          break;
        case OP.PERSID:
        case OP.BINPERSID:
          this.unsupportedOp('persistent ids refer to objects outside the file');
          break;
        case OP.EXT1:
        case OP.EXT2:
        case OP.EXT4:
          this.unsupportedOp('extension-registry codes name classes outside the file');
          break;
        case OP.NEXT_BUFFER:
          this.unsupportedOp('out-of-band buffers live outside the file');
          break;
        case OP.INT:
        case OP.LONG:
        case OP.FLOAT:
        case OP.STRING:
        case OP.UNICODE:
        case OP.GET:
        case OP.PUT:
        case OP.BINSTRING:
        case OP.SHORT_BINSTRING:
          this.unsupportedOp('protocol 0/1 text opcodes and Python 2 strings are not written by protocols 2 to 5 in Python 3');
          break;
        default:
          this.fail('bad-structure', `byte ${this.at} (0x${op.toString(16).padStart(2, '0')}) is not a pickle opcode`);
      }
    }
  }

  // ---------------------------------------------------------------- reading primitives

  private need(k: number): void {
    if (this.n - this.pos < k) {
      this.fail('truncated', `truncated at byte ${this.at} (${opName(this.op)} needs ${k} bytes, ${this.n - this.pos} left)`);
    }
  }

  private truncatedBy(len: number, what: string): never {
    return this.fail('truncated', `truncated at byte ${this.at} (${what} ${len} bytes, ${this.n - this.pos} left)`);
  }

  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An unsigned 64-bit length; anything beyond 2^53 is certainly more than the bytes left. */
  private u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * TWO32 + lo;
  }

  private alloc(len: number): void {
    this.allocated += len;
    if (this.allocated > this.limits.maxBytes) {
      this.limit('maxBytes', this.limits.maxBytes, `more than ${this.limits.maxBytes} bytes of strings, bytes and array data`);
    }
  }

  /** A length-prefixed UTF-8 string of `len` bytes at the read position. */
  private str(len: number): string {
    if (len > this.n - this.pos) this.truncatedBy(len, `${opName(this.op)} claims`);
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    this.alloc(len);
    return this.utf8(start, end);
  }

  private utf8(start: number, end: number): string {
    // Short ASCII strings (dict keys, dtype names) are the common case; TextDecoder's call cost dominates them.
    if (end - start <= 64) {
      const s = asciiOrNull(this.bytes, start, end);
      if (s !== null) return s;
    }
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      return this.fail('bad-structure', `the string at byte ${this.at} is not valid UTF-8`);
    }
  }

  /** Length-prefixed bytes, as a view into the file (consumers copy what they keep). */
  private raw(len: number): Uint8Array {
    if (len > this.n - this.pos) this.truncatedBy(len, `${opName(this.op)} claims`);
    const v = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    this.alloc(len);
    return v;
  }

  /** A little-endian two's-complement integer of `len` bytes (LONG1/LONG4), as number when safe. */
  private long(len: number): number | bigint {
    if (len > this.n - this.pos) this.truncatedBy(len, `${opName(this.op)} claims`);
    const { bytes } = this;
    const start = this.pos;
    this.pos += len;
    if (len === 0) return 0;
    if (len <= 6) {
      let v = 0;
      for (let i = len - 1; i >= 0; i--) v = v * 256 + bytes[start + i];
      if (bytes[start + len - 1] & 0x80) v -= 2 ** (8 * len);
      return v;
    }
    this.alloc(len);
    let hex = '';
    for (let i = len - 1; i >= 0; i--) hex += bytes[start + i].toString(16).padStart(2, '0');
    let v = BigInt('0x' + hex);
    if (bytes[start + len - 1] & 0x80) v -= 1n << BigInt(8 * len);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  /** A newline-terminated argument of GLOBAL. */
  private line(): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) this.fail('truncated', `truncated at byte ${this.at} (${opName(this.op)} needs a newline-terminated name, none before the end)`);
    const s = this.utf8(this.pos, nl);
    this.pos = nl + 1;
    return s;
  }

  // ---------------------------------------------------------------- stack, marks, memo

  private peek(): unknown {
    if (this.stack.length <= this.markBase) this.underflow(1);
    return this.stack[this.stack.length - 1];
  }

  private pop(): unknown {
    if (this.stack.length <= this.markBase) this.underflow(1);
    return this.stack.pop();
  }

  private requireMark(): void {
    if (this.marks.length === 0) this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} has no matching MARK`);
  }

  private popMark(): void {
    this.marks.pop();
    this.markBase = this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  /**
   * Removes the last MARK, leaving the items pushed since on the stack from the returned index, with a
   * value below them (what popToMark then peek give, without copying the items).
   */
  private closeMark(): number {
    this.requireMark();
    const base = this.markBase;
    this.popMark();
    if (base <= this.markBase) {
      this.stack.length = base;
      this.underflow(1);
    }
    return base;
  }

  /** The items pushed since the last MARK, removing them and the mark. */
  private popToMark(): unknown[] {
    this.requireMark();
    const items = this.stack.splice(this.markBase);
    this.popMark();
    return items;
  }

  private put(index: number): void {
    const v = this.peek();
    const { memo } = this;
    if (index < memo.length) {
      memo[index] = v;
      return;
    }
    if (index === memo.length && this.memoSparse === null) {
      memo.push(v);
    } else {
      const sparse = (this.memoSparse ??= new Map());
      if (sparse.has(index)) {
        sparse.set(index, v);
        return;
      }
      sparse.set(index, v);
    }
    if (++this.memoCount > this.limits.maxMemo) {
      this.limit('maxMemo', this.limits.maxMemo, `more than ${this.limits.maxMemo} memo entries`);
    }
  }

  private get(index: number): void {
    const v = index < this.memo.length ? this.memo[index] : this.memoSparse?.get(index);
    if (v === undefined) this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} reads memo entry ${index}, which was never stored`);
    if (isContainer(v)) this.shared = true;
    this.stack.push(v);
  }

  private count(k: number): void {
    this.elements += k;
    if (this.elements > this.limits.maxElements) {
      this.limit('maxElements', this.limits.maxElements, `more than ${this.limits.maxElements} container elements`);
    }
  }

  private key(k: unknown): PyKey {
    const t = typeof k;
    if (t === 'string' || t === 'number' || t === 'bigint' || t === 'boolean' || k === null) return k as PyKey;
    return this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} uses a ${describe(k)} as a dict key (only str, int, float, bool and None keys are read)`);
  }

  /** Sets the keys and values `items[from..]` holds in turn. */
  private setItems(d: PyDict, items: unknown[], from = 0): void {
    const n = items.length - from;
    if (n % 2 !== 0) this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} has an odd number (${n}) of keys and values`);
    for (let i = from; i < items.length; i += 2) d.set(this.key(items[i]), items[i + 1] as PyValue);
    this.count(n / 2);
  }

  // ---------------------------------------------------------------- globals, REDUCE, BUILD

  private resolve(module: string, name: string): AllowedGlobal {
    const g = ALLOWED.get(`${module} ${name}`);
    if (g === undefined) {
      this.fail('forbidden-global', `refuses to load global ${module}.${name} at byte ${this.at} (${ALLOWED_TEXT})`);
    }
    return g;
  }

  private call(fn: AllowedGlobal, args: readonly PyValue[]): unknown {
    switch (fn.kind) {
      case 'scalar':
        return this.scalar(fn, args);
      case 'dtype':
        return this.dtype(args);
      case 'reconstruct':
        return this.reconstruct(fn, args);
      case 'encode':
        return this.encode(args);
      case 'ndarray':
        return this.fail('bad-structure', `REDUCE at byte ${this.at} calls numpy.ndarray directly (numpy pickles arrays through _reconstruct)`);
    }
  }

  /** `numpy.dtype(name, align, copy)`: the canonical NpDtype of a supported dtype. */
  private dtype(args: readonly PyValue[]): NpDtype {
    const name = args[0];
    if (typeof name !== 'string') this.fail('bad-structure', `numpy.dtype at byte ${this.at} is called with a ${describe(name)} instead of a dtype name`);
    const spec = dtypeSpecFromReduceName(name);
    if (spec === undefined) this.unsupportedDtype(name);
    return spec.dtype;
  }

  /** `numpy.core.multiarray.scalar(dtype, raw bytes)`. */
  private scalar(fn: AllowedGlobal, args: readonly PyValue[]): NpScalar {
    const [dtype, data] = args;
    if (args.length !== 2 || !(dtype instanceof NpDtype) || !(data instanceof Uint8Array)) {
      return this.fail('bad-structure', `${fn.qualname} at byte ${this.at} needs (dtype, bytes), got (${args.map(describe).join(', ')})`);
    }
    const spec = this.specOf(dtype);
    if (spec.itemsize === 0) this.fail('unsupported', `${fn.qualname} at byte ${this.at} makes an object scalar`);
    if (data.length !== spec.itemsize) {
      this.fail('bad-structure', `${fn.qualname} at byte ${this.at} gives ${data.length} bytes for a ${spec.str} scalar of ${spec.itemsize}`);
    }
    // The raw bytes are usually a view of the file itself: read them through the file's DataView.
    let v = this.view;
    let o = data.byteOffset - this.bytes.byteOffset;
    if (data.buffer !== this.bytes.buffer) {
      v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      o = 0;
    }
    switch (spec.str) {
      case '<f8':
        return new NpScalar(spec.dtype, v.getFloat64(o, true));
      case '<f4':
        return new NpScalar(spec.dtype, v.getFloat32(o, true));
      case '<i8': {
        const b = v.getBigInt64(o, true);
        return new NpScalar(spec.dtype, b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b);
      }
      case '<i4':
        return new NpScalar(spec.dtype, v.getInt32(o, true));
      case '|u1':
        return new NpScalar(spec.dtype, data[0]);
      default: // |b1
        return new NpScalar(spec.dtype, data[0] !== 0);
    }
  }

  /** `_reconstruct(ndarray, (0,), b'b')`: an empty array that BUILD fills in place. */
  private reconstruct(fn: AllowedGlobal, args: readonly PyValue[]): NpArray {
    const cls = args[0] as unknown;
    if (args.length !== 3 || !(cls instanceof AllowedGlobal) || cls.kind !== 'ndarray') {
      this.fail('bad-structure', `${fn.qualname} at byte ${this.at} must be called with numpy.ndarray as its first argument`);
    }
    const arr = new NpArray(UNBUILT, [0], []);
    (this.pending ??= new Set()).add(arr);
    return arr;
  }

  /** `_codecs.encode(text, 'latin1')`: how protocol 2 spells bytes. */
  private encode(args: readonly PyValue[]): Uint8Array {
    const [text, encoding] = args;
    if (encoding !== 'latin1') {
      const enc = args.length < 2 ? "the default 'utf-8'" : typeof encoding === 'string' ? `'${encoding}'` : `a ${describe(encoding)}`;
      this.fail('forbidden-global', `refuses _codecs.encode at byte ${this.at} with encoding ${enc} (only 'latin1', which is how pickle spells bytes)`);
    }
    if (typeof text !== 'string' || args.length !== 2) {
      return this.fail('bad-structure', `_codecs.encode at byte ${this.at} needs (str, 'latin1'), got (${args.map(describe).join(', ')})`);
    }
    this.alloc(text.length);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) this.fail('bad-structure', `_codecs.encode at byte ${this.at} is given a character (U+${c.toString(16)}) that latin1 cannot encode`);
      out[i] = c;
    }
    return out;
  }

  private build(target: unknown, state: unknown): void {
    if (target instanceof NpDtype) return this.buildDtype(target, state);
    if (target instanceof NpArray && this.pending?.has(target)) return this.buildArray(target, state);
    this.fail('bad-structure', `BUILD at byte ${this.at} sets the state of a ${describe(target)}; only numpy dtypes and arrays are rebuilt`);
  }

  /** numpy's dtype state `(3, '<', None, None, None, -1, -1, 0)`: accepted when it describes the plain dtype. */
  private buildDtype(dtype: NpDtype, state: unknown): void {
    const s = state instanceof PyTuple ? state.items : undefined;
    if (s === undefined || s.length < 8 || (s[0] !== 3 && s[0] !== 4)) {
      this.fail('bad-structure', `BUILD at byte ${this.at} gives dtype ${dtype.str} the state ${describe(state)} instead of numpy's (3, order, ...) tuple`);
    }
    const order = s[1];
    if (order === '>' && this.specOf(dtype).itemsize > 1) this.unsupportedDtype(`>${dtype.str.slice(1)}`);
    if (order !== '<' && order !== '|' && order !== '=' && order !== '>') {
      this.fail('bad-structure', `BUILD at byte ${this.at} gives dtype ${dtype.str} the byte order ${describe(order)}`);
    }
    if (s[2] !== null || s[3] !== null || s[4] !== null) this.unsupportedDtype(`structured or sub-array ${dtype.str}`);
  }

  /** numpy's array state `(version, shape, dtype, is_fortran, raw bytes | list)`. */
  private buildArray(arr: NpArray, state: unknown): void {
    const s = state instanceof PyTuple ? state.items : undefined;
    if (s === undefined || (s.length !== 5 && s.length !== 4)) {
      this.fail('bad-structure', `BUILD at byte ${this.at} gives an ndarray the state ${describe(state)} instead of (version, shape, dtype, fortran, data)`);
    }
    const [shapeT, dtype, fortran, data] = s.length === 5 ? s.slice(1) : s;
    if (!(shapeT instanceof PyTuple) || !(dtype instanceof NpDtype) || typeof fortran !== 'boolean') {
      this.fail('bad-structure', `BUILD at byte ${this.at} gives an ndarray the state (${s.map(describe).join(', ')}) instead of (version, shape, dtype, fortran, data)`);
    }
    const shape: number[] = [];
    let size = 1;
    for (const d of shapeT.items) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        this.fail('bad-structure', `BUILD at byte ${this.at} gives an ndarray the shape (${shapeT.items.map(describe).join(', ')})`);
      }
      shape.push(d);
      size *= d;
    }
    const spec = this.specOf(dtype);
    let values: NpArray['data'];
    if (spec.itemsize === 0) {
      if (!Array.isArray(data) || data.length !== size) {
        this.fail('bad-structure', `BUILD at byte ${this.at} gives an object array of shape (${shape.join(', ')}) ${Array.isArray(data) ? `${data.length} values` : `a ${describe(data)}`} instead of a list of ${size}`);
      }
      this.count(size);
      values = fortran ? fortranToC(data, shape) : data.slice();
    } else {
      if (!(data instanceof Uint8Array) || data.length !== size * spec.itemsize) {
        this.fail('bad-structure', `BUILD at byte ${this.at} gives a ${spec.str} array of shape (${shape.join(', ')}) ${data instanceof Uint8Array ? `${data.length} bytes` : `a ${describe(data)}`} instead of ${size * spec.itemsize} bytes`);
      }
      this.alloc(data.length);
      const typed = decodeRawData(spec, data);
      values = fortran ? fortranToC(typed, shape) : typed;
    }
    // Filled in place: the memo may already hold this object (BINPUT follows _reconstruct, precedes BUILD),
    // just as numpy's BUILD mutates the array _reconstruct made.
    Object.assign(arr, { dtype: spec.dtype, shape, data: values });
    this.pending!.delete(arr);
  }

  private specOf(dtype: NpDtype): DtypeSpec {
    const spec = specOf(dtype);
    if (spec === undefined) this.unsupportedDtype(dtype.str);
    return spec;
  }

  // ---------------------------------------------------------------- end

  private stop(): { value: PyValue; end: number } {
    if (this.marks.length > 0 || this.stack.length !== 1) {
      this.fail('bad-structure', `STOP at byte ${this.at} leaves ${this.stack.length} values and ${this.marks.length} marks on the stack (a complete pickle leaves exactly one value)`);
    }
    if (this.pending !== null && this.pending.size > 0) {
      this.fail('bad-structure', `an ndarray made by _reconstruct never received its data (BUILD)`);
    }
    const value = this.stack[0] as PyValue;
    const problem = checkStructure(value, this.limits, this.shared);
    if (problem !== null) this.fail(problem.reason, problem.detail, problem.reason === 'limit-exceeded' ? limitFix(problem.limit!) : undefined);
    return { value, end: this.pos };
  }

  // ---------------------------------------------------------------- errors

  private fail(reason: FormatErrorReason, detail: string, fix?: string): never {
    throw new FormatError(this.file, reason, detail, fix, this.at);
  }

  private underflow(k: number): never {
    return this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} needs ${k} value${k > 1 ? 's' : ''} on the stack, found ${Math.max(0, this.stack.length - this.markBase)}`);
  }

  private notA(what: string, got: unknown): never {
    return this.fail('bad-structure', `${opName(this.op)} at byte ${this.at} needs a ${what} below its arguments, found a ${describe(got)}`);
  }

  private unsupportedOp(why: string): never {
    return this.fail('unsupported-opcode', `opcode ${opName(this.op)} at byte ${this.at} is not supported (${why})`);
  }

  private unsupportedDtype(name: string): never {
    return this.fail('unsupported', `numpy dtype ${name} at byte ${this.at} is not supported (supported: ${SUPPORTED_DTYPES})`);
  }

  private limit(name: keyof ReadLimits, value: number, what: string): never {
    return this.fail('limit-exceeded', `${what} (limit ${name} = ${value}) at byte ${this.at}`, limitFix(name));
  }
}

function limitFix(name: keyof ReadLimits): string {
  return `the file is not the one expected, or pass a larger ${name} in the reader's limits argument if it really is this large`;
}

/** The placeholder dtype of an array between `_reconstruct` and BUILD. */
const UNBUILT = new NpDtype('|O');

/** Whether `v` can hold other values. Compares constructors: cheaper than instanceof chains in the hot path. */
function isContainer(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const c = v.constructor;
  return c === Array || c === Map || c === PyTuple || c === NpArray;
}

/** A short description of a value's Python type for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  switch (typeof v) {
    case 'string':
      return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
    case 'number':
      return Number.isInteger(v) ? `int ${v}` : `float ${v}`;
    case 'bigint':
      return `int ${v}`;
    case 'boolean':
      return v ? 'True' : 'False';
  }
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof PyTuple) return `tuple of ${v.length}`;
  if (v instanceof Uint8Array) return `bytes of ${v.length}`;
  if (v instanceof NpScalar) return `numpy ${v.dtype.str} scalar`;
  if (v instanceof NpDtype) return `numpy dtype ${v.str}`;
  if (v instanceof NpArray) return `numpy ${v.dtype.str} array`;
  if (v instanceof AllowedGlobal) return `global ${v.qualname}`;
  return 'value of unknown type';
}
