/**
 * The dictionary (SEMANTICS.md "Outputs"): one entry per configuration, keyed `w_{width}_t_{bs}_d_{data}`,
 * with the structure and key order of the published `dict_13_13_10_normal_public.npy`, and its JSON text.
 *
 * The JSON is written by hand rather than with JSON.stringify for two reasons: JSON has no NaN, and
 * JSON.stringify would write NaN as `null` but also -0.0 as `0` and 53.0 as `53`; here every float is
 * spelled as Python's json.dumps spells it (its repr: `-0.0`, `53.0`, `1e-05`), integers as integers,
 * and NaN (and +-inf, which JSON lacks too) as `null`.
 */
import { cellIndex, type Grid } from './grid.js';
import { formatPythonFloat } from './python-float.js';
import { OPERATIONS, rfiCell, type Operation, type RfiCell } from './rfi.js';

/** Metrics of an entry's `metrics_dict`, in the published order. */
export const DICTIONARY_METRICS = [
  'test_acc', 'train_acc', 'generalization_gap', 'test_loss', 'train_loss', 'CKA', 'hessian_e', 'hessian_t',
  'mode_connectivity', 'mode_connectivity_peak',
] as const;
export type DictionaryMetric = (typeof DICTIONARY_METRICS)[number];

export interface PossibleImprove extends Record<Operation, RfiCell> {
  /** Each operation's improvement. */
  summary_improvement: Record<Operation, number>;
  /** Each operation's index in OPERATIONS. */
  operations: Record<Operation, number>;
}

/** One configuration's entry; fields in the published order. */
export interface DictionaryEntry {
  architecture: string;
  dataset: string;
  method: string;
  temperature: { bs: number };
  width: number;
  noise: number;
  /** The data fraction as an integer (10 for "10", 9 for "09"). */
  data_amount: number;
  initialization: null;
  epochs: null;
  metrics: null;
  metrics_dict: Record<DictionaryMetric, number>;
  bs_range: number[];
  width_range: number[];
  data_amount_range: string[];
  noise_range: number[] | null;
  possible_improve: PossibleImprove;
  /** The operation with the largest improvement and that improvement; null if every improvement is NaN. */
  label: [Operation, number] | null;
}

/** What the grid does not say about the collection; defaults are the published basic collection's. */
export interface DictionaryOptions {
  architecture?: string;
  dataset?: string;
  /** The method folder (`normal`). */
  method?: string;
  /** Label noise in percent (0 basic, 10 noisy). */
  noise?: number;
  noiseRange?: number[] | null;
}

/** The key of a configuration: `w_2_t_16_d_10`. */
export function dictionaryKey(width: number, bs: number, data: string): string {
  return `w_${width}_t_${bs}_d_${data}`;
}

/**
 * The operation with the largest improvement, the first in OPERATIONS order on ties, NaN ignored;
 * null if every improvement is NaN.
 */
export function bestOperation(improvements: Readonly<Record<Operation, number>>): [Operation, number] | null {
  let best: [Operation, number] | null = null;
  for (const op of OPERATIONS) {
    const v = improvements[op];
    if (!Number.isNaN(v) && (best === null || v > best[1])) best = [op, v];
  }
  return best;
}

/** Every configuration's entry, in the published order (width, then bs, then data). */
export function buildDictionary(grid: Grid, options: DictionaryOptions = {}): Map<string, DictionaryEntry> {
  return new Map(dictionaryEntries(grid, options));
}

/**
 * The entries of {@link buildDictionary} one at a time, in the same order: writing them out as they come
 * (`dictionaryToBytes`) leaves each entry garbage at once, where a whole Map of 1,690 nested entries would
 * survive into the old generation (measured as most of an export's garbage collection).
 */
export function* dictionaryEntries(grid: Grid, options: DictionaryOptions = {}): Generator<[string, DictionaryEntry]> {
  const { axes } = grid;
  const entryAt = dictionaryEntryMaker(grid, options);
  for (let j = 0; j < axes.width.length; j++) {
    for (let i = 0; i < axes.bs.length; i++) {
      for (let k = 0; k < axes.data.length; k++) yield entryAt(i, j, k);
    }
  }
}

/** A function giving the entry (and its key) of cell (i, j, k) (bs, width, data indices). */
export function dictionaryEntryMaker(grid: Grid, options: DictionaryOptions = {}): (i: number, j: number, k: number) => [string, DictionaryEntry] {
  const { axes, metrics } = grid;
  const operations = Object.fromEntries(OPERATIONS.map((op, i) => [op, i])) as Record<Operation, number>;
  return (i, j, k) => {
    const at = cellIndex(axes, i, j, k);
    const metricsDict = {} as Record<DictionaryMetric, number>;
    for (const m of DICTIONARY_METRICS) metricsDict[m] = metrics[m][at];
    const cells = {} as Record<Operation, RfiCell>;
    const summary = {} as Record<Operation, number>;
    for (const op of OPERATIONS) {
      cells[op] = rfiCell(metrics.test_acc, axes, i, j, k, op);
      summary[op] = cells[op].improvement;
    }
    return [dictionaryKey(axes.width[j], axes.bs[i], axes.data[k]), {
      architecture: options.architecture ?? 'ResNet18',
      dataset: options.dataset ?? 'cifar10',
      method: options.method ?? 'normal',
      temperature: { bs: axes.bs[i] },
      width: axes.width[j],
      noise: options.noise ?? 0,
      data_amount: Number.parseInt(axes.data[k], 10),
      initialization: null,
      epochs: null,
      metrics: null,
      metrics_dict: metricsDict,
      bs_range: [...axes.bs],
      width_range: [...axes.width],
      data_amount_range: [...axes.data],
      noise_range: options.noiseRange ?? null,
      possible_improve: { ...cells, summary_improvement: summary, operations },
      label: bestOperation(summary),
    }];
  };
}

/** A float as JSON: Python's spelling; NaN and +-inf (not JSON) as null. */
const f = (x: number): string => (Number.isFinite(x) ? formatPythonFloat(x) : 'null');
/** An integer as JSON. */
const int = (x: number): string => (Number.isFinite(x) ? String(x) : 'null');
const str = (s: string): string => JSON.stringify(s);

/**
 * The text is built by plain concatenation, the fixed parts (keys, punctuation, the range lists every
 * entry repeats) written once: the generic object/list helpers this replaced allocated an array per
 * object and cost 190-265 ms of an export for 1,690 entries. Floats are formatted through a per-call
 * cache: an entry's `all` lists repeat its neighbours' test accuracies, so most values come up many times.
 * Range lists are memoised by content (every entry carries its own copy of the same axes).
 */
const FLOAT_CACHE_SIZE = 1 << 13;
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

function entryWriter(): (e: DictionaryEntry) => string {
  // A direct-mapped cache indexed by the double's bits: a Map keyed by doubles hashes each boxed number
  // and measured ~35 ms per collection (most of the text's cost); this costs a few.
  const keys = new Float64Array(FLOAT_CACHE_SIZE);
  const texts = new Array<string | undefined>(FLOAT_CACHE_SIZE);
  const fm = (x: number): string => {
    if (x === 0 || x !== x) return f(x); // -0 and 0 compare equal but are spelled apart; NaN equals nothing
    bits[0] = x;
    const slot = (words[0] ^ words[1] ^ (words[1] >>> 13)) & (FLOAT_CACHE_SIZE - 1);
    let text = texts[slot];
    if (text === undefined || keys[slot] !== x) {
      text = f(x);
      keys[slot] = x;
      texts[slot] = text;
    }
    return text;
  };
  const lists = new Map<string, string>();
  const listOf = <T>(xs: readonly T[], each: (x: T) => string): string => {
    const key = xs.join('\u0000');
    let text = lists.get(key);
    if (text === undefined) {
      text = '[';
      for (let i = 0; i < xs.length; i++) text += (i > 0 ? ', ' : '') + each(xs[i]);
      text += ']';
      lists.set(key, text);
    }
    return text;
  };
  const opKeys = OPERATIONS.map((op) => str(op));
  const metricKeys = DICTIONARY_METRICS.map((m) => str(m));
  return (e) => {
    const pi = e.possible_improve;
    let out = `{"architecture": ${str(e.architecture)}, "dataset": ${str(e.dataset)}, "method": ${str(e.method)}, "temperature": {"bs": ${int(e.temperature.bs)}}, "width": ${int(e.width)}, "noise": ${int(e.noise)}, "data_amount": ${int(e.data_amount)}, "initialization": null, "epochs": null, "metrics": null, "metrics_dict": {`;
    for (let m = 0; m < DICTIONARY_METRICS.length; m++) out += `${m > 0 ? ', ' : ''}${metricKeys[m]}: ${fm(e.metrics_dict[DICTIONARY_METRICS[m]])}`;
    out += `}, "bs_range": ${listOf(e.bs_range, int)}, "width_range": ${listOf(e.width_range, int)}, "data_amount_range": ${listOf(e.data_amount_range, str)}, "noise_range": ${e.noise_range === null ? 'null' : listOf(e.noise_range, int)}, "possible_improve": {`;
    for (let o = 0; o < OPERATIONS.length; o++) {
      const cell = pi[OPERATIONS[o]];
      let all = '[';
      for (let k = 0; k < cell.all.length; k++) all += (k > 0 ? ', ' : '') + fm(cell.all[k]);
      out += `${opKeys[o]}: {"all": ${all}], "max": ${fm(cell.max)}, "improvement": ${fm(cell.improvement)}}, `;
    }
    out += '"summary_improvement": {';
    for (let o = 0; o < OPERATIONS.length; o++) out += `${o > 0 ? ', ' : ''}${opKeys[o]}: ${fm(pi.summary_improvement[OPERATIONS[o]])}`;
    out += '}, "operations": {';
    for (let o = 0; o < OPERATIONS.length; o++) out += `${o > 0 ? ', ' : ''}${opKeys[o]}: ${int(pi.operations[OPERATIONS[o]])}`;
    out += `}}, "label": ${e.label === null ? 'null' : `[${str(e.label[0])}, ${fm(e.label[1])}]`}}`;
    return out;
  };
}

/**
 * The dictionary as JSON text (`dictionary.json`): one entry per line, keys in order. NaN becomes `null`
 * (JSON has no NaN); floats are spelled as Python's json.dumps does.
 */
export function dictionaryToJson(dict: Iterable<readonly [string, DictionaryEntry]>): string {
  return dictionaryToBytes(dict).toString('utf8');
}

/**
 * `dictionaryToJson` as UTF-8 bytes, which is what gets written: each entry's text goes into the buffer as
 * soon as it is made, so with {@link dictionaryEntries} no entry outlives its line.
 */
export function dictionaryToBytes(dict: Iterable<readonly [string, DictionaryEntry]>): Buffer {
  let buffer = Buffer.allocUnsafe(1 << 22);
  let length = 0;
  const write = (text: string): void => {
    // A JavaScript character takes at most 3 UTF-8 bytes.
    if (length + 3 * text.length > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * buffer.length, length + 3 * text.length));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    length += buffer.write(text, length, 'utf8');
  };
  const line = dictionaryLineWriter();
  write('{\n');
  let first = true;
  for (const [name, entry] of dict) {
    write(`${first ? '' : ',\n'}${line(name, entry)}`);
    first = false;
  }
  write('\n}\n');
  return buffer.subarray(0, length);
}

/**
 * The text of one entry's line in `dictionary.json` (`"w_2_t_16_d_10": {...}`, without the `,` that
 * follows every entry but the last). The writer keeps a float cache: use one per file.
 */
export function dictionaryLineWriter(): (name: string, entry: DictionaryEntry) => string {
  const entryJson = entryWriter();
  return (name, entry) => `${str(name)}: ${entryJson(entry)}`;
}
