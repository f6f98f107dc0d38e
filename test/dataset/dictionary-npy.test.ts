/**
 * dictionary.npy against the published dict_13_13_10_normal_public.npy (skipped, saying so, when
 * ../shared is absent): built from the published grid, it reads back through the project's reader equal
 * value for value and structure for structure (dict / list / tuple / None / str / number), and through
 * numpy (when python3 + numpy are installed) equal value for value and type for type, where the published
 * numpy.float64 scalars count as the Python floats we write (float64 is a float subclass).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpyObject } from '../../formats/npy.js';
import { NpScalar, PyTuple, type PyValue } from '../../formats/values.js';
import { dictionaryEntries } from '../../dataset/dictionary.js';
import { dictionaryToNpy } from '../../dataset/dictionary-npy.js';
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

const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
const hasNumpy = python.status === 0;

describeIfShared('dictionary.npy equals the published dictionary', () => {
  const dir = join(REFERENCE, 'published');
  const gridFile = join(dir, 'metric_grid_13_13_10_public.npy');
  const publishedFile = join(dir, 'dict_13_13_10_normal_public.npy');
  const ours = dictionaryToNpy(dictionaryEntries(readPublishedGrid(readFileSync(gridFile), gridFile)));

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
