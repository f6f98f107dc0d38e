/**
 * dictionary.npy against the published dict_13_13_10_normal_public.npy (skipped, saying so, when
 * ../shared is absent): built from the published grid, it reads back through the project's reader equal
 * value for value and structure for structure (dict / list / tuple / None / str / number), and through
 * numpy (when python3 + numpy are installed) equal value for value and type for type, where the published
 * numpy.float64 scalars count as the Python floats we write (float64 is a float subclass).
 *
 * The streamed writer (`dictionaryToNpy`) against the generic one over `entryToPython`'s value tree, byte
 * for byte: on the published grid's dictionary and on seeded random entries (NaN, -0.0, integral floats,
 * extreme exponents, None labels and noise ranges, non-ASCII and 1-character strs, ints beyond int32,
 * empty and 1-item lists, more than 1,000 entries so the root dict takes two SETITEMS batches).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpyObject, writeNpy } from '../../formats/npy.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyValue } from '../../formats/values.js';
import { DICTIONARY_METRICS, dictionaryEntries, type DictionaryEntry } from '../../dataset/dictionary.js';
import { dictionaryToNpy, entryToPython } from '../../dataset/dictionary-npy.js';
import { OPERATIONS, type Operation } from '../../dataset/rfi.js';
import { prng } from '../helpers/prng.js';
import { readPublishedGrid } from '../../dataset/published-grid.js';
import { REFERENCE, describeIfShared } from '../helpers/shared.js';

/** Differences between two read-back values: kind and value (NaN equal to NaN, -0 apart from 0). */
function differences(ours: PyValue, theirs: PyValue, where: string, out: string[]): void {
  if (out.length > 20) return;
  if (theirs instanceof NpScalar && theirs.dtype.str === '<f8') theirs = theirs.value as number;
  const kind = (v: PyValue): string => (v === null ? 'None' : v instanceof Map ? 'dict' : Array.isArray(v) ? 'list' : v instanceof PyTuple ? 'tuple' : typeof v);
  if (kind(ours) !== kind(theirs)) {
    out.push(`${where}: ${kind(ours)} != ${kind(theirs)}`);
    return;
  }
  if (ours instanceof Map) {
    const t = theirs as Map<unknown, PyValue>;
    if ([...ours.keys()].join() !== [...t.keys()].join()) out.push(`${where}: keys ${[...ours.keys()].join()} != ${[...t.keys()].join()}`);
    for (const [k, v] of ours) if (t.has(k)) differences(v, t.get(k)!, `${where}.${String(k)}`, out);
  } else if (Array.isArray(ours) || ours instanceof PyTuple) {
    const a = Array.isArray(ours) ? ours : ours.items;
    const b = Array.isArray(theirs) ? theirs : (theirs as PyTuple).items;
    if (a.length !== b.length) out.push(`${where}: length ${a.length} != ${b.length}`);
    else a.forEach((v, i) => differences(v, b[i], `${where}[${i}]`, out));
  } else if (!Object.is(ours, theirs)) {
    out.push(`${where}: ${String(ours)} != ${String(theirs)}`);
  }
}

/** The bytes the generic pickle writer gives for the dictionary as a value tree (the pre-streaming code path). */
function genericNpy(entries: readonly (readonly [string, DictionaryEntry])[]): Uint8Array {
  const root = new Map(entries.map(([k, e]) => [k, entryToPython(e)]));
  return writeNpy(new NpArray(new NpDtype('|O'), [], [root as unknown as PyValue]));
}

/** Where two byte strings first differ, for a readable failure (-1 when equal). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Seeded random entries meant to reach every branch of the writers' number and str handling. */
function randomEntries(seed: number, count: number): [string, DictionaryEntry][] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const float = (): number => {
    const k = r();
    if (k < 0.1) return NaN;
    if (k < 0.2) return -0;
    if (k < 0.3) return pick([0, 1, -3, 100, 2 ** 40, 2 ** 53, 1e300]);
    if (k < 0.4) return pick([Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, 1e-310, 5e-324]);
    if (k < 0.5) return (r() - 0.5) * 10 ** Math.floor(r() * 600 - 300);
    return r();
  };
  const int = (): number => pick([0, 1, 255, 256, 65535, 65536, -1, -129, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, Math.floor(r() * 1e6)]);
  const str = (): string => pick(['ResNet18', 'cifar10', 'normal', '', 'x', '|', 'é', 'Résnet-ü', '数据', '10', '09', 'a'.repeat(300)]);
  const list = <T>(f: () => T): T[] => Array.from({ length: pick([0, 1, 2, 5, 13]) }, f);
  const cells = Object.fromEntries(OPERATIONS.map((op) => [op, { all: list(float), max: float(), improvement: float() }]));
  const entries: [string, DictionaryEntry][] = [];
  for (let i = 0; i < count; i++) {
    const per = Object.fromEntries(OPERATIONS.map((op) => [op, { all: list(float), max: float(), improvement: float() }]));
    entries.push([`w_${i}_${str()}`, {
      architecture: str(),
      dataset: str(),
      method: str(),
      temperature: { bs: int() },
      width: int(),
      noise: r() < 0.8 ? int() : float(), // a non-integral noise goes through the generic number path as a float
      data_amount: int(),
      initialization: null,
      epochs: null,
      metrics: null,
      metrics_dict: Object.fromEntries(DICTIONARY_METRICS.map((m) => [m, float()])) as DictionaryEntry['metrics_dict'],
      bs_range: list(int),
      width_range: list(int),
      data_amount_range: list(str),
      noise_range: r() < 0.5 ? null : list(int),
      possible_improve: {
        ...(r() < 0.5 ? cells : per),
        summary_improvement: Object.fromEntries(OPERATIONS.map((op) => [op, float()])),
        operations: Object.fromEntries(OPERATIONS.map((op, k) => [op, k])),
      } as DictionaryEntry['possible_improve'],
      label: r() < 0.3 ? null : [pick(OPERATIONS) as Operation, float()],
    }]);
  }
  return entries;
}

describe('the streamed dictionary.npy writer writes the generic writer\'s bytes', () => {
  test.each([
    ['no entries', 0, 0],
    ['one entry (SETITEM, not SETITEMS)', 1, 1],
    ['1,201 random entries (two SETITEMS batches, LONG_BINPUT/LONG_BINGET memo indices)', 2, 1201],
  ])('%s', (_name, seed, count) => {
    const entries = randomEntries(seed, count);
    const fast = dictionaryToNpy(entries);
    const generic = genericNpy(entries);
    expect(firstDifference(fast, generic)).toBe(-1);
  });
});

const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const hasNumpy = python.status === 0;

describeIfShared('dictionary.npy equals the published dictionary', () => {
  const dir = join(REFERENCE, 'published');
  const gridFile = join(dir, 'metric_grid_13_13_10_public.npy');
  const publishedFile = join(dir, 'dict_13_13_10_normal_public.npy');
  const ours = dictionaryToNpy(dictionaryEntries(readPublishedGrid(readFileSync(gridFile), gridFile)));

  test('byte for byte the generic writer\'s output over entryToPython\'s value tree', () => {
    const entries = [...dictionaryEntries(readPublishedGrid(readFileSync(gridFile), gridFile))];
    expect(entries).toHaveLength(1690);
    expect(firstDifference(ours, genericNpy(entries))).toBe(-1);
  });

  test('through the project reader: same keys, order, structure and values', () => {
    const back = readNpyObject(ours, 'dictionary.npy') as Map<string, PyValue>;
    const published = readNpyObject(readFileSync(publishedFile), publishedFile) as Map<string, PyValue>;
    expect(back.size).toBe(1690);
    const diffs: string[] = [];
    differences(back, published, 'dict', diffs);
    expect(diffs).toEqual([]);
  });

  const numpyTest = hasNumpy ? test : test.skip;
  if (!hasNumpy) process.stderr.write('skipping the numpy check of dictionary.npy: python3 with numpy is not installed (Debian: python3-numpy)\n');
  numpyTest('through numpy: np.load(allow_pickle=True).item() equals the published one, type for type', () => {
    const work = mkdtempSync(join(tmpdir(), 'mdpipe-dict-npy-'));
    try {
      writeFileSync(join(work, 'dictionary.npy'), ours);
      const script = `
import math, sys, numpy as np
ours = np.load(sys.argv[1], allow_pickle=True).item()
theirs = np.load(sys.argv[2], allow_pickle=True).item()
bad = []
def kind(v):
    # numpy.float64 is a float subclass: the published scalars count as the floats we write
    return float if isinstance(v, np.float64) else type(v)
def same(a, b, where):
    if len(bad) > 20: return
    if type(a) is not kind(b): bad.append(f"{where}: {type(a).__name__} != {type(b).__name__}"); return
    if isinstance(a, dict):
        if list(a) != list(b): bad.append(f"{where}: keys differ"); return
        for k in a: same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b): bad.append(f"{where}: length"); return
        for i, (x, y) in enumerate(zip(a, b)): same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        if not (a == b or (math.isnan(a) and math.isnan(b))): bad.append(f"{where}: {a!r} != {b!r}")
    elif a != b: bad.append(f"{where}: {a!r} != {b!r}")
same(ours, theirs, "dict")
builtin = {dict, list, tuple, str, int, float, type(None)}
def plain(v):
    return type(v) in builtin and (not isinstance(v, (dict, list, tuple)) or all(plain(x) for x in (v.values() if isinstance(v, dict) else v)))
print(len(ours), "entries;", "only built-in types" if plain(ours) else "NOT only built-in types")
print("\\n".join(bad))
`;
      const run = spawnSync('python3', ['-c', script, join(work, 'dictionary.npy'), publishedFile], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.stdout.trim()).toBe('1690 entries; only built-in types');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
