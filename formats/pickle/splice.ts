/**
 * Some items of a dict inside a pickle written anew, the other items' bytes kept: for a file that is one
 * large dict (dictionary.npy) of which an update changes a few items, re-writing those costs a fraction
 * of writing the whole (see dataset/dictionary-npy.ts for the figures).
 *
 * The catch is the memo. `writePickle` numbers every container and str it memoises (BINPUT n), and refers
 * back to a str seen before by its number (BINGET n). An item written anew can memoise more or fewer entries
 * than before (a None that became a tuple), which moves the numbers of everything after it, and the items
 * after it may refer to strs it memoised. So the bytes after the first changed item are walked opcode by
 * opcode (those inside an item that need no str by a small loop of their own, `walkInsideItem`): every memo
 * put gets its new number (a 1-byte BINPUT whose number passes 255 becomes a 5-byte LONG_BINPUT, and back),
 * every memo get the new number of what it refers to (a str memoised by a changed item is found again by
 * value, where the writer would find it), and each changed item is written by `writePickleFragment` from the
 * memo as it stands at that point of the new pickle. The result is byte for byte what writing the whole
 * pickle gives, or null where that cannot be shown from the bytes (see `spliceDictItems`): the caller writes
 * the whole then.
 */
import { asciiOrNull } from '../ascii.js';
import { OP } from './opcodes.js';
import { PICKLE_BATCH, writePickleFragment, type PickleMemo, type PickleSink } from './writer.js';

export interface DictSplice {
  /** Offset in the bytes of the dict's first item, just after its EMPTY_DICT, memo put and MARK. */
  at: number;
  /** The writer's memo at `at` (`PickleSink.memo()` there); not modified. */
  memo: PickleMemo;
  /** The dict's number of items: at least 2 (so that its first batch opens with the MARK before `at`). */
  size: number;
  /** The items to write anew, by their index in the dict: each writes one key and its value. */
  replace: ReadonlyMap<number, (sink: PickleSink) => void>;
}

/** An old memo entry memoised inside a replaced item: a get of it is resolved by the str it holds, if any. */
const REPLACED = -1;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` (a protocol 2 or 3 pickle from `writePickle`, or a file ending with one such as an object
 * `.npy`) with the dict items `splice.replace` names written anew; the bytes before `splice.at` are kept.
 *
 * Returns null, never other bytes than the whole writer's, when the bytes after `at` are not as
 * `writePickle` writes them (an opcode it does not write at protocol 3, a truncated argument, memo puts
 * out of sequence, a get of an entry not yet put, a short form where the long one is due or the reverse,
 * bytes after STOP), when the dict's items are not laid out as the batches of `size` items that `dict()`
 * opens (each item a key and a value, neither a tuple of more than 3 items nor a value built by an opcode
 * that pops at the dict's level, such as a 1-item dict or list), when a global lies among the dict's
 * items (globals' memo and the strs memoised with them are not in `PickleMemo`), and when the new items
 * change which strs later bytes would meet as memoised (a str a new item memoises first and a later item
 * writes in full, a str an old item memoised and a later item refers to but the new one lacks).
 * Damage that keeps the opcode structure (a changed float's bytes) is not seen: those bytes are kept.
 */
export function spliceDictItems(bytes: Uint8Array, splice: DictSplice): Uint8Array | null {
  const { at, size, replace } = splice;
  const n = bytes.length;
  if (size < 2 || at > n) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The memo of the new pickle, as the whole writer has it at the current point.
  const memo: PickleMemo = { size: splice.memo.size, strs: new Map(splice.memo.strs), chars: new Map(splice.memo.chars) };
  const base = memo.size;
  /** New memo index of each old one from `base` on (REPLACED inside a replaced item). */
  let moved = new Int32Array(4096);
  /** The strs memoised by replaced items, by old memo index. */
  const replacedStrs = new Map<number, string>();
  let oldSize = base;
  const out = new Output(n + 4096);
  out.copy(bytes, 0, at);
  let copied = at; // bytes[copied, pos) are yet to be copied, unless dropped with a replaced item
  let replacedSeen = 0;

  // The dict's layout: depth of MARKs inside its open batch, values on the stack at that depth, items
  // in closed batches, the open batch's size, and whether the current item is being replaced.
  let inDict = true;
  let depth = 0;
  let count = 0;
  let done = 0;
  let batch = Math.min(PICKLE_BATCH, size);
  let dropping = false;
  let lastStr = -1; // offset of the op before this one when it is a str, else -1

  const endItem = (pos: number): void => {
    if (dropping) {
      copied = pos;
      dropping = false;
    }
  };
  const startItem = (pos: number, index: number): void => {
    endItem(pos);
    const write = replace.get(index);
    if (write === undefined) return;
    out.copy(bytes, copied, pos);
    out.bytes(writePickleFragment(write, memo));
    dropping = true;
    replacedSeen++;
  };
  /** Closes the dict's open batch at `pos` (its SETITEMS or SETITEM ending at `end`); the offset after it, or -1. */
  const endBatch = (pos: number, end: number): number => {
    if (count !== 2 * batch) return -1;
    endItem(pos);
    done += batch;
    count = 0;
    if (done === size) {
      inDict = false;
      return end;
    }
    batch = Math.min(PICKLE_BATCH, size - done);
    if (batch === 1) return end;
    return end < n && bytes[end] === OP.MARK ? end + 1 : -1;
  };

  const inside: InsideItem = { depth, oldSize, copied, dropping, base, moved, memo, out };
  let pos = at;
  while (pos < n) {
    // After a str, its memo put is the walk's (it memoises the str): the fast path starts past it.
    if (depth > 0 && inDict && lastStr < 0) {
      inside.depth = depth;
      inside.oldSize = oldSize;
      inside.copied = copied;
      inside.dropping = dropping;
      inside.moved = moved;
      const next = walkInsideItem(bytes, pos, inside);
      if (next !== pos) {
        pos = next;
        ({ depth, oldSize, copied } = inside);
        continue;
      }
    }
    const op = bytes[pos];
    let end = pos + 1;
    let push = false;
    let str = false;
    let memoOp = false;
    switch (op) {
      case OP.NONE: case OP.NEWTRUE: case OP.NEWFALSE: case OP.EMPTY_DICT: case OP.EMPTY_LIST: case OP.EMPTY_TUPLE:
        push = true;
        break;
      case OP.BININT1: case OP.BININT2: case OP.BININT: case OP.BINFLOAT:
        end += ARGUMENT[op];
        push = true;
        break;
      case OP.LONG1: case OP.SHORT_BINBYTES:
        end = pos + 2 + (pos + 1 < n ? bytes[pos + 1] : n);
        push = true;
        break;
      case OP.LONG4: case OP.BINBYTES: case OP.BINUNICODE:
        end = pos + 5 + (pos + 5 <= n ? view.getUint32(pos + 1, true) : n);
        push = true;
        str = op === OP.BINUNICODE;
        break;
      case OP.GLOBAL: {
        if (inDict) return null;
        const first = bytes.indexOf(10, pos + 1);
        const second = first < 0 ? -1 : bytes.indexOf(10, first + 1);
        if (second < 0) return null;
        end = second + 1;
        push = true;
        break;
      }
      case OP.BINPUT: case OP.BINGET: end += 1; memoOp = true; push = op === OP.BINGET; break;
      case OP.LONG_BINPUT: case OP.LONG_BINGET: end += 4; memoOp = true; push = op === OP.LONG_BINGET; break;
      case OP.MARK:
        depth++;
        break;
      case OP.SETITEMS: case OP.APPENDS: case OP.TUPLE:
        if (inDict && depth === 0) {
          if (op !== OP.SETITEMS || batch === 1) return null;
          end = endBatch(pos, end);
          if (end < 0) return null;
        } else if (--depth === 0 && inDict && op === OP.TUPLE) return null; // a large tuple as key or value: not followed
        break;
      case OP.SETITEM:
        if (inDict && depth === 0) {
          if (batch !== 1) return null;
          end = endBatch(pos, end);
          if (end < 0) return null;
        }
        break;
      case OP.APPEND: case OP.TUPLE1: case OP.TUPLE2: case OP.TUPLE3: case OP.REDUCE: case OP.BUILD:
        if (inDict && depth === 0) return null; // a value built at the dict's level: items not told apart
        break;
      case OP.STOP:
        if (inDict || end !== n || replacedSeen !== replace.size) return null;
        break;
      default:
        return null;
    }
    if (end > n) return null;
    if (push && inDict && depth === 0) {
      if (count % 2 === 0) {
        if (count === 2 * batch) return null;
        startItem(pos, done + count / 2);
      }
      count++;
    }
    if (memoOp) {
      const long = op === OP.LONG_BINPUT || op === OP.LONG_BINGET;
      const old = long ? view.getUint32(pos + 1, true) : bytes[pos + 1];
      if (long && old < 256) return null;
      let now: number;
      if (op === OP.BINPUT || op === OP.LONG_BINPUT) {
        if (old !== oldSize) return null;
        const text = lastStr >= 0 ? strAt(bytes, view, lastStr) : undefined;
        if (text === null) return null;
        if (oldSize - base === moved.length) {
          const grown = new Int32Array(moved.length * 2);
          grown.set(moved);
          moved = grown;
        }
        if (dropping) {
          moved[oldSize++ - base] = REPLACED;
          if (text !== undefined) replacedStrs.set(old, text);
          now = old;
        } else {
          now = memo.size++;
          moved[oldSize++ - base] = now;
          if (text !== undefined) {
            const strs = text.length <= 1 ? memo.chars : memo.strs;
            if (strs.has(text)) return null; // the writer would refer back to it
            strs.set(text, now);
          }
        }
      } else {
        if (old >= oldSize) return null;
        now = old < base ? old : moved[old - base];
        if (now === REPLACED && !dropping) {
          const text = replacedStrs.get(old);
          const found = text === undefined ? undefined : (text.length <= 1 ? memo.chars : memo.strs).get(text);
          if (found === undefined) return null;
          now = found;
        }
      }
      if (!dropping && now !== old) {
        out.copy(bytes, copied, pos);
        out.memo(op === OP.BINPUT || op === OP.LONG_BINPUT ? 'put' : 'get', now);
        copied = end;
      }
    }
    lastStr = str ? pos : -1;
    pos = end;
    if (op === OP.STOP) {
      out.copy(bytes, copied, pos);
      return out.result();
    }
  }
  return null; // no STOP
}

/** What `walkInsideItem` does with an op: leave it to the walk, step over it, or do its part. */
const enum Inside { Leave, Step, Mark, Close, Get, Put, LongPut }
const INSIDE = new Uint8Array(256);
/** Argument bytes of the ops `walkInsideItem` steps over (and of the fixed-size pushes, for the walk too). */
const ARGUMENT = new Uint8Array(256);
for (const [op, bytes] of [
  [OP.NONE, 0], [OP.NEWTRUE, 0], [OP.NEWFALSE, 0], [OP.EMPTY_DICT, 0], [OP.EMPTY_LIST, 0], [OP.EMPTY_TUPLE, 0],
  [OP.BININT1, 1], [OP.BININT2, 2], [OP.BININT, 4], [OP.BINFLOAT, 8],
  [OP.SETITEM, 0], [OP.APPEND, 0], [OP.TUPLE1, 0], [OP.TUPLE2, 0], [OP.TUPLE3, 0], [OP.REDUCE, 0], [OP.BUILD, 0],
] as const) {
  INSIDE[op] = Inside.Step;
  ARGUMENT[op] = bytes;
}
INSIDE[OP.MARK] = Inside.Mark;
INSIDE[OP.SETITEMS] = Inside.Close;
INSIDE[OP.APPENDS] = Inside.Close;
INSIDE[OP.BINGET] = Inside.Get;
INSIDE[OP.BINPUT] = Inside.Put;
INSIDE[OP.LONG_BINPUT] = Inside.LongPut;

/** The walk's state that `walkInsideItem` is given, and updates where it stops (depth, oldSize, copied). */
interface InsideItem {
  depth: number;
  oldSize: number;
  copied: number;
  dropping: boolean;
  /** The walk's `moved`, which it replaces when it grows. */
  moved: Int32Array;
  readonly base: number;
  readonly memo: PickleMemo;
  readonly out: Output;
}

/**
 * The walk's fast path, for the ops inside an item (MARK depth > 0) whose handling needs no str: pushes
 * of plain values, the ops that combine values below the dict's level, memo puts of containers and 1-byte
 * memo gets, renumbered as the walk would: all but ~10k of the 464k ops of a 1,690-entry dictionary.npy.
 * Why a loop of its own: in a fresh process (what a rebuild pays) the one big loop ran at ~110 ns an op
 * until V8 optimised it ~22 ms in, and again after each deoptimisation (a path first taken halfway
 * through). This small loop is optimised after a few calls. First patch in a fresh process, medians of 7:
 * a NaN configuration getting values 63 -> 34 ms, a test_acc changing 56 -> 21 ms. Returns the offset of
 * the first op it leaves to the walk (strs, long gets, anything at the dict's level, anything to check
 * or to refuse), `pos` itself when it takes none.
 */
function walkInsideItem(bytes: Uint8Array, pos: number, s: InsideItem): number {
  const { base, moved, memo, out, dropping } = s;
  const n = bytes.length;
  let { depth, oldSize, copied } = s;
  while (pos < n) {
    const op = bytes[pos];
    const inside = INSIDE[op];
    if (inside === Inside.Step) {
      const end = pos + 1 + ARGUMENT[op];
      if (end > n) break;
      pos = end;
    } else if (inside === Inside.Get) {
      if (pos + 2 > n) break;
      const old = bytes[pos + 1];
      if (old >= oldSize) break; // refused by the walk
      if (!dropping && old >= base) {
        const now = moved[old - base];
        if (now === REPLACED) break; // found again by its str, by the walk
        if (now !== old) {
          out.copy(bytes, copied, pos);
          out.memo('get', now);
          copied = pos + 2;
        }
      }
      pos += 2;
    } else if (inside === Inside.Put || inside === Inside.LongPut) {
      const long = inside === Inside.LongPut;
      const end = pos + (long ? 5 : 2);
      if (end > n) break;
      const old = long ? bytes[pos + 1] | (bytes[pos + 2] << 8) | (bytes[pos + 3] << 16) | (bytes[pos + 4] << 24) : bytes[pos + 1];
      // Out of sequence, a long form below 256 or past 2^31, a full `moved`: the walk refuses or grows it.
      if (old !== oldSize || (long && old < 256) || oldSize - base === moved.length) break;
      if (dropping) moved[oldSize++ - base] = REPLACED;
      else {
        const now = memo.size++;
        moved[oldSize++ - base] = now;
        if (now !== old) {
          out.copy(bytes, copied, pos);
          out.memo('put', now);
          copied = end;
        }
      }
      pos = end;
    } else if (inside === Inside.Mark) {
      depth++;
      pos++;
    } else if (inside === Inside.Close) {
      pos++;
      if (--depth === 0) break;
    } else break;
  }
  s.depth = depth;
  s.oldSize = oldSize;
  s.copied = copied;
  return pos;
}

/** The str of the BINUNICODE at `pos`; null when it does not decode to the str the writer was given. */
function strAt(bytes: Uint8Array, view: DataView, pos: number): string | null {
  const start = pos + 5;
  const end = start + view.getUint32(pos + 1, true);
  const ascii = asciiOrNull(bytes, start, end);
  if (ascii !== null) return ascii;
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(start, end));
  } catch {
    return null;
  }
  // U+FFFD is also what a lone surrogate was written as: which str the writer memoised is unknown.
  return text.includes('\uFFFD') ? null : text;
}

/** A growing byte buffer. */
class Output {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(k: number): void {
    if (this.pos + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + k));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  copy(from: Uint8Array, start: number, end: number): void {
    const k = end - start;
    if (k > 32) return this.bytes(from.subarray(start, end));
    // Runs between renumbered memo ops are short when every later index moves: no view object for those.
    this.ensure(k);
    const buf = this.buf;
    let at = this.pos;
    for (let i = start; i < end; i++) buf[at++] = from[i];
    this.pos = at;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A memo put or get of `index`, in the short form below 256 as the writer writes it. */
  memo(kind: 'put' | 'get', index: number): void {
    this.ensure(5);
    if (index < 256) {
      this.buf[this.pos++] = kind === 'put' ? OP.BINPUT : OP.BINGET;
      this.buf[this.pos++] = index;
    } else {
      this.buf[this.pos++] = kind === 'put' ? OP.LONG_BINPUT : OP.LONG_BINGET;
      this.view.setUint32(this.pos, index, true);
      this.pos += 4;
    }
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
