/**
 * `dictionary.npy`: the dictionary as `numpy.save(path, the_dict)` writes it, the file the MD tree code
 * opens with `np.load(path, allow_pickle=True).item()`. Same keys, key order and Python types as the
 * published `dict_13_13_10_normal_public.npy`, with one deliberate difference: where the published file
 * holds `numpy.float64` scalars (metrics_dict, improvement, summary_improvement, the label's number) this
 * one holds plain Python floats, so loading it needs nothing but built-in types. `numpy.float64` is a
 * subclass of `float`, so code written for the published file (arithmetic, comparisons, `isinstance(x,
 * float)`, json) behaves the same on both.
 *
 * Types, as in the published file: ints for `width`, `noise`, `data_amount` (the data fraction in tenths of
 * CIFAR-10's training set: 10 is all 50,000 images), `temperature.bs`, `bs_range`, `width_range`,
 * `operations`; strs for `data_amount_range` ("10", "09", ...); floats (NaN where a metric is missing)
 * for every metric and improvement, even integral ones (`PyFloat`); `label` a tuple `(operation, float)`
 * or None.
 */
import { NpArray, NpDtype, PyTuple, type PyKey, type PyValue } from '../formats/values.js';
import { spliceDictItems } from '../formats/pickle/splice.js';
import { PyFloat, PyStream, type PickleInput, type PickleMemo, type PickleSink } from '../formats/pickle/writer.js';
import { readNpyHeader } from '../formats/npy-header.js';
import { writeNpy } from '../formats/npy.js';
import { dataframeRowOf } from './dataframe.js';
import { DICTIONARY_METRICS, dictionaryEntryMaker, type DictionaryEntry, type DictionaryOptions } from './dictionary.js';
import { cellCoordinates, gridSize, sameAxes, type Grid } from './grid.js';
import { OPERATIONS } from './rfi.js';
import { linesToRewrite } from './text-exports.js';

type PyMap = Map<PyKey, PickleInput>;

/**
 * A Python float: the writer writes a non-integral number (and NaN) as a float anyway, so only integral
 * ones are wrapped (wrapping all ~170,000 numbers of a collection measured ~2x the time of this).
 */
const float = (x: number): PyFloat | number => (Number.isInteger(x) || Object.is(x, -0) ? new PyFloat(x) : x);

/**
 * One entry as the pickle writer's input, fields in the published order: the reference form of what
 * `writeEntry` streams (test/dataset/dictionary-npy.test.ts checks both write the same bytes).
 */
export function entryToPython(e: DictionaryEntry): PyMap {
  const metrics: PyMap = new Map(DICTIONARY_METRICS.map((m) => [m, float(e.metrics_dict[m])]));
  const pi = e.possible_improve;
  const improve: PyMap = new Map<PyKey, PickleInput>(
    OPERATIONS.map((op) => [op, new Map<PyKey, PickleInput>([
      ['all', pi[op].all.map(float)],
      ['max', float(pi[op].max)],
      ['improvement', float(pi[op].improvement)],
    ])]),
  );
  improve.set('summary_improvement', new Map(OPERATIONS.map((op) => [op, float(pi.summary_improvement[op])])));
  improve.set('operations', new Map(OPERATIONS.map((op) => [op, pi.operations[op]])));
  // A PyTuple's items are typed as PyValue; the writer accepts PyFloat inside tuples too.
  const label = e.label === null ? null : new PyTuple([e.label[0], float(e.label[1]) as unknown as PyValue]);
  return new Map<PyKey, PickleInput>([
    ['architecture', e.architecture],
    ['dataset', e.dataset],
    ['method', e.method],
    ['temperature', new Map([['bs', e.temperature.bs]])],
    ['width', e.width],
    ['noise', e.noise],
    ['data_amount', e.data_amount],
    ['initialization', null],
    ['epochs', null],
    ['metrics', null],
    ['metrics_dict', metrics],
    ['bs_range', [...e.bs_range]],
    ['width_range', [...e.width_range]],
    ['data_amount_range', [...e.data_amount_range]],
    ['noise_range', e.noise_range === null ? null : [...e.noise_range]],
    ['possible_improve', improve],
    ['label', label],
  ]);
}

/**
 * The `.npy` bytes of the whole dictionary: a shape-() object array holding one pickled dict. Streamed
 * (`writeEntry`) rather than built with `entryToPython`: ~170,000 Maps, PyFloats and lists per collection
 * cost ~10x the writing itself (bench/dictionary-npy.ts).
 */
export function dictionaryToNpy(dict: Iterable<readonly [string, DictionaryEntry]>): Uint8Array {
  const entries = Array.isArray(dict) ? (dict as readonly (readonly [string, DictionaryEntry])[]) : [...dict];
  return npyOfDict(entries.length, (w) => {
    for (const [key, entry] of entries) {
      w.str(key);
      writeEntry(w, entry);
      w.item();
    }
  });
}

/** The .npy of a shape-() object array holding a dict of `size` items, which `items` writes (each key, value, `item()`). */
function npyOfDict(size: number, items: (w: PickleSink) => void): Uint8Array {
  const root = new PyStream((w) => {
    w.dict(size);
    items(w);
  });
  return writeNpy(new NpArray(new NpDtype('|O'), [], [root as unknown as PyValue]));
}

/**
 * dictionary.npy patched from the previous one: byte for byte `dictionaryToNpy(dictionaryEntries(grid,
 * options))`, with only the entries at the cells `linesToRewrite` gives written again.
 *
 * Why: written whole, a collection's 1,690 entries cost ~80 ms of a one-checkpoint rebuild (each entry
 * made, every float formatted), the largest part of it; the ~35 entries on the lines through a changed
 * cell are what can differ. How: the pickle is one dict, entries in `dictionaryEntries`' order, after a
 * head (numpy's reconstruction of the object array, the dict's EMPTY_DICT and MARK) that depends only on
 * the number of entries; `spliceDictItems` (formats/pickle/splice.ts) writes the changed entries from the
 * memo as it stands there and renumbers the memo puts and gets of the bytes it keeps (an entry's label
 * going from None to a tuple memoises one more entry). Measured with bench/dictionary-npy.ts on the full
 * 13 x 13 x 10 axes, one configuration changed (medians, a shared 2-core machine under nice 19, so
 * loose): warm, full write (entries + writer) 29-39 ms, patch 8-9 ms; first call in a fresh process (what
 * one rebuild pays), full 190-207 ms, patch 107-119 ms. Cold, most of the patch was the opcode walk over
 * the 1.8 MB kept, interpreted before V8 optimised it; with the walk's fast path for the ops inside an
 * item (`walkInsideItem`), the same bench on a quieter day, 4 fresh processes each: a NaN configuration
 * getting values, full 110 ms, patch 75 -> 46 ms; a test_acc changing, full 101 ms, patch 61 -> 32 ms.
 *
 * @param previous the grid the previous file was written from (the previous grid.npz) and its bytes
 * @returns null when the patch does not apply (the axes changed, the previous file is not the shape this
 *   writer gives, or `spliceDictItems` cannot show its bytes right): write the file whole then
 */
export function patchDictionaryNpy(previous: { grid: Grid; npy: Uint8Array }, grid: Grid, options: DictionaryOptions = {}): Uint8Array | null {
  const { axes } = grid;
  if (!sameAxes(previous.grid.axes, axes)) return null;
  const size = gridSize(axes);
  if (size < 2) return null; // a 1-item dict has no MARK before its item; nothing to gain anyway
  const head = dictionaryHead(size);
  const old = previous.npy;
  if (old.length < head.bytes.length || Buffer.compare(head.bytes, old.subarray(0, head.bytes.length)) !== 0) return null;
  const entryAt = dictionaryEntryMaker(grid, options);
  const replace = new Map<number, (w: PickleSink) => void>();
  for (const at of linesToRewrite(previous.grid, grid)) {
    const [i, j, k] = cellCoordinates(axes, at);
    // The dictionary's order is the dataframe's (width, then bs, then data).
    replace.set(dataframeRowOf(grid, i, j, k), (w) => {
      const [name, entry] = entryAt(i, j, k);
      w.str(name);
      writeEntry(w, entry);
    });
  }
  return spliceDictItems(old, { at: head.bytes.length, memo: head.memo, size, replace });
}

/** The bytes of a `size`-entry dictionary.npy before its first entry, and the pickle writer's memo there. */
function dictionaryHead(size: number): { bytes: Uint8Array; memo: PickleMemo } {
  let memo: PickleMemo | undefined;
  let offset = 0;
  // Any items will do: what comes before the first does not depend on them, nor on their number past two
  // (a dict of two items or more opens with the MARK of its first batch). Two, not `size`: writing 1,690
  // placeholder items measured ~16 ms of a one-checkpoint rebuild.
  const items = Math.min(size, 2);
  const npy = npyOfDict(items, (w) => {
    memo = w.memo();
    offset = w.offset();
    for (let e = 0; e < items; e++) {
      w.value(null);
      w.value(null);
      w.item();
    }
  });
  return { bytes: npy.subarray(0, readNpyHeader(npy, 'dictionary.npy').dataOffset + offset), memo: memo! };
}

/** `entryToPython(e)` written straight to the sink, value for value in the same order (keep the two in step). */
function writeEntry(w: PickleSink, e: DictionaryEntry): void {
  const key = (k: string): void => w.str(k);
  w.dict(17);
  key('architecture'); w.value(e.architecture); w.item();
  key('dataset'); w.value(e.dataset); w.item();
  key('method'); w.value(e.method); w.item();
  key('temperature'); w.dict(1); key('bs'); w.value(e.temperature.bs); w.item(); w.item();
  key('width'); w.value(e.width); w.item();
  key('noise'); w.value(e.noise); w.item();
  key('data_amount'); w.value(e.data_amount); w.item();
  key('initialization'); w.value(null); w.item();
  key('epochs'); w.value(null); w.item();
  key('metrics'); w.value(null); w.item();
  key('metrics_dict');
  w.dict(DICTIONARY_METRICS.length);
  for (const m of DICTIONARY_METRICS) { key(m); w.float(e.metrics_dict[m]); w.item(); }
  w.item();
  key('bs_range'); values(w, e.bs_range); w.item();
  key('width_range'); values(w, e.width_range); w.item();
  key('data_amount_range'); values(w, e.data_amount_range); w.item();
  key('noise_range');
  if (e.noise_range === null) w.value(null);
  else values(w, e.noise_range);
  w.item();
  key('possible_improve');
  const pi = e.possible_improve;
  w.dict(OPERATIONS.length + 2);
  for (const op of OPERATIONS) {
    key(op);
    w.dict(3);
    key('all'); w.list(pi[op].all.length); for (const x of pi[op].all) { w.float(x); w.item(); } w.item();
    key('max'); w.float(pi[op].max); w.item();
    key('improvement'); w.float(pi[op].improvement); w.item();
    w.item();
  }
  key('summary_improvement');
  w.dict(OPERATIONS.length);
  for (const op of OPERATIONS) { key(op); w.float(pi.summary_improvement[op]); w.item(); }
  w.item();
  key('operations');
  w.dict(OPERATIONS.length);
  for (const op of OPERATIONS) { key(op); w.value(pi.operations[op]); w.item(); }
  w.item();
  w.item();
  key('label');
  if (e.label === null) w.value(null);
  else {
    w.tupleMark(2);
    w.value(e.label[0]);
    w.float(e.label[1]);
    w.tuple(2);
  }
  w.item();
}

/** A list of ints / strs, each written as `writePickle` writes it. */
function values(w: PickleSink, xs: readonly (number | string)[]): void {
  w.list(xs.length);
  for (const x of xs) {
    w.value(x);
    w.item();
  }
}
