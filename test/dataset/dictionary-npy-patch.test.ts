/**
 * dictionary.npy patched from the previous file (`patchDictionaryNpy`) equals the full write byte for byte,
 * after random batches of changes: a configuration gaining values (a checkpoint landing where the grid was
 * NaN: its label goes from None to a tuple, one more memo entry, every later memo index moves), values
 * changing (test_acc: the lines through the cell too), a configuration going back to NaN, several at once,
 * the first and last entries. Grids big enough that memo indices pass 255 (BINPUT -> LONG_BINPUT, both
 * ways), 65,535, and the root dict's 1,000-item batches (SETITEMS boundaries; a last batch of 1 item, SETITEM).
 * Each case counts the patches that applied, so a patch that always bails out fails. A damaged previous
 * file gives null, never other bytes.
 */
import { dictionaryEntries, type DictionaryOptions } from '../../dataset/dictionary.js';
import { dictionaryToNpy, patchDictionaryNpy } from '../../dataset/dictionary-npy.js';
import { cellIndex, emptyGrid, gridSize, type Axes, type Grid } from '../../dataset/grid.js';
import { METRIC_NAMES } from '../../dataset/metrics.js';
import { FULL_AXES } from '../../synth/axes.js';
import { prng } from '../helpers/prng.js';
import { tinyGrid } from './fixtures.js';

const full = (grid: Grid, options: DictionaryOptions): Uint8Array => dictionaryToNpy(dictionaryEntries(grid, options));

/** Where two byte strings first differ (-1 when equal), for a readable failure. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** A grid copy (metrics cloned). */
const clone = (g: Grid): Grid => ({ axes: g.axes, metrics: Object.fromEntries(METRIC_NAMES.map((m) => [m, Float64Array.from(g.metrics[m])])) as Grid['metrics'] });

/** A grid with values picked from small pools (ties, -0.0, integral floats), NaN where `missing` says. */
function randomGrid(rand: () => number, axes: Axes, missing: number): Grid {
  const g = emptyGrid(axes);
  for (let at = 0; at < gridSize(axes); at++) if (rand() >= missing) setCell(rand, g, at);
  return g;
}

function setCell(rand: () => number, g: Grid, at: number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  for (const m of METRIC_NAMES) g.metrics[m][at] = pick([NaN, -0, 0.5, 1e-5, 53.19, 60, 61.25, 88.5]);
  g.metrics.test_acc[at] = pick([50, 60, 60, 70, 80.5, 91.125]);
}

type Change = 'arrives' | 'test_acc' | 'other metric' | 'goes';

/** One random change at `at`: a NaN cell gets values, a value changes, or the cell goes back to NaN. */
function change(rand: () => number, g: Grid, at: number): Change {
  if (Number.isNaN(g.metrics.test_acc[at])) {
    setCell(rand, g, at);
    return 'arrives';
  }
  const k = rand();
  if (k < 0.3) {
    for (const m of METRIC_NAMES) g.metrics[m][at] = NaN;
    return 'goes';
  }
  if (k < 0.65) {
    g.metrics.test_acc[at] = [40, 55.5, 60, 99][Math.floor(rand() * 4)];
    return 'test_acc';
  }
  g.metrics.hessian_e[at] = rand();
  return 'other metric';
}

/**
 * `steps` batches of 1-4 random changes (first and last cells favoured) from a random grid over `axes`,
 * each patched from the previous patched file and compared with the full write. Returns how often each
 * kind of change was made and that every patch applied.
 */
function fuzz(seed: number, axes: Axes, steps: number, options: DictionaryOptions = {}): { patched: number; changes: Record<Change, number> } {
  const rand = prng(seed);
  let grid = randomGrid(rand, axes, 0.4);
  let npy = full(grid, options);
  const n = gridSize(axes);
  const changes: Record<Change, number> = { arrives: 0, test_acc: 0, 'other metric': 0, goes: 0 };
  let patched = 0;
  for (let step = 0; step < steps; step++) {
    const next = clone(grid);
    const batch = 1 + Math.floor(rand() * 4);
    for (let b = 0; b < batch; b++) {
      const r = rand();
      const at = r < 0.15 ? 0 : r < 0.3 ? n - 1 : Math.floor(rand() * n);
      changes[change(rand, next, at)]++;
    }
    const expected = full(next, options);
    const got = patchDictionaryNpy({ grid, npy }, next, options);
    if (got !== null) patched++;
    expect({ seed, step, difference: got === null ? 'null' : firstDifference(got, expected) }).toEqual({ seed, step, difference: -1 });
    grid = next;
    npy = got ?? expected;
  }
  return { patched, changes };
}

describe('patchDictionaryNpy writes the full writer\'s bytes', () => {
  test('tiny grid (8 entries): every kind of change, every patch applies', () => {
    const { patched, changes } = fuzz(1, tinyGrid().axes, 60);
    expect(patched).toBe(60);
    for (const kind of Object.values(changes)) expect(kind).toBeGreaterThan(5);
  });

  test('6 x 5 x 4 = 120 entries, memo indices past 255, with options (noise range, 1-character and non-ASCII strs)', () => {
    const axes: Axes = { bs: [16, 32, 64, 128, 256, 512], width: [2, 4, 8, 16, 32], data: ['10', '05', '02', '01'] };
    expect(fuzz(2, axes, 40).patched).toBe(40);
    expect(fuzz(3, axes, 30, { architecture: 'R', dataset: 'cifar-10 (données)', method: 'x', noise: 10, noiseRange: [0, 10, 20] }).patched).toBe(30);
  });

  test('a str of the first entry that is a later entry\'s key (its key is then a memo get)', () => {
    const axes: Axes = { bs: [16, 32, 64], width: [2, 4], data: ['10', '05'] };
    expect(fuzz(4, axes, 40, { architecture: 'w_4_t_64_d_05', dataset: 'w_2_t_32_d_10' }).patched).toBe(40);
  });

  test('the full 13 x 13 x 10 axes (1,690 entries: two SETITEMS batches, ~29,000 memo entries)', () => {
    expect(fuzz(5, FULL_AXES, 12).patched).toBe(12);
  });

  test('1,001 entries (a last batch of one item: SETITEM) and 4,000 entries (memo indices past 65,535)', () => {
    expect(fuzz(6, { bs: [1, 2, 3, 4, 5, 6, 7], width: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], data: ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13'] }, 6).patched).toBe(6);
    const big: Axes = { bs: Array.from({ length: 20 }, (_, i) => 16 + i), width: Array.from({ length: 20 }, (_, i) => 2 + i), data: ['10', '09', '08', '07', '06', '05', '04', '03', '02', '01'] };
    const npy = full(randomGrid(prng(0), big, 0.4), {});
    // The last memo index the file uses: past 65,535 (a LONG_BINPUT's 4 bytes, so no 2-byte form to cross).
    const view = new DataView(npy.buffer, npy.byteOffset);
    expect(view.getUint32(npy.length - 6, true)).toBeGreaterThan(65535); // ... BINPUT n, BUILD, STOP
    expect(fuzz(7, big, 4).patched).toBe(4);
  });

  test('a NaN configuration getting values moves every later memo index by one (the case that matters most)', () => {
    const axes: Axes = { bs: [16, 32, 64, 128], width: [2, 4, 8, 16], data: ['10', '05', '02'] };
    const rand = prng(8);
    const before = randomGrid(rand, axes, 0);
    // NaN in a whole bs row so that its entries have no label (None), then one of them lands.
    for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) for (const m of METRIC_NAMES) before.metrics[m][cellIndex(axes, 3, j, k)] = NaN;
    const after = clone(before);
    setCell(rand, after, cellIndex(axes, 3, 1, 1));
    const previous = full(before, {});
    const expected = full(after, {});
    expect(expected.length).not.toBe(previous.length);
    const got = patchDictionaryNpy({ grid: before, npy: previous }, after, {});
    expect(got === null ? 'null' : firstDifference(got, expected)).toBe(-1);
  });
});

describe('a previous file that is not what the writer gives: null, never other bytes', () => {
  const axes: Axes = { bs: [16, 32, 64, 128], width: [2, 4, 8], data: ['10', '05'] };
  const rand = prng(9);
  const before = randomGrid(rand, axes, 0.3);
  const after = clone(before);
  setCell(rand, after, 5);
  after.metrics.test_acc[17] = NaN;
  const previous = full(before, {});
  const expected = full(after, {});

  test('the undamaged file patches', () => {
    expect(firstDifference(patchDictionaryNpy({ grid: before, npy: previous }, after)!, expected)).toBe(-1);
  });

  test.each([
    ['empty', () => new Uint8Array(0)],
    ['truncated in the header', () => previous.subarray(0, 40)],
    ['truncated in the pickle', () => previous.subarray(0, previous.length - 100)],
    ['without its STOP', () => previous.subarray(0, previous.length - 1)],
    ['a byte after STOP', () => Buffer.concat([previous, Buffer.from([0x2e])])],
    ['another shape in the header', () => Buffer.from(Buffer.from(previous).toString('latin1').replace("'shape': ()", "'shape': (1,)").replace('(1,), }  ', '(1,), } '), 'latin1')],
    ['another number of entries', () => full(randomGrid(prng(1), { bs: [16, 32, 64, 128], width: [2, 4, 8], data: ['10'] }, 0.3), {})],
    ['two entries swapped (memo puts out of sequence)', () => swapFirstTwoEntries(previous)],
  ])('%s', (_name, damaged) => {
    expect(patchDictionaryNpy({ grid: before, npy: damaged() }, after)).toBeNull();
  });

  test('the previous grid on other axes', () => {
    expect(patchDictionaryNpy({ grid: randomGrid(prng(2), { ...axes, data: ['10'] }, 0), npy: previous }, after)).toBeNull();
  });

  test('any one byte changed: null, or the full bytes, or those with that one byte changed (kept, not spread)', () => {
    const r = prng(10);
    let nulls = 0;
    for (let trial = 0; trial < 300; trial++) {
      const damaged = Uint8Array.from(previous);
      const at = Math.floor(r() * damaged.length);
      damaged[at] ^= 1 + Math.floor(r() * 255);
      const got = patchDictionaryNpy({ grid: before, npy: damaged }, after);
      if (got === null) {
        nulls++;
        continue;
      }
      let differing = 0;
      if (got.length === expected.length) for (let i = 0; i < got.length; i++) differing += got[i] !== expected[i] ? 1 : 0;
      expect({ trial, at, lengthsEqual: got.length === expected.length, oneByteAtMost: differing <= 1 }).toEqual({ trial, at, lengthsEqual: true, oneByteAtMost: true });
    }
    expect(nulls).toBeGreaterThan(0);
  });
});

/** The file with its first two entries' bytes swapped (found by their keys). */
function swapFirstTwoEntries(npy: Uint8Array): Uint8Array {
  const text = Buffer.from(npy).toString('latin1');
  const first = text.indexOf('w_2_t_16_d_10') - 5;
  const second = text.indexOf('w_2_t_16_d_05') - 5;
  const third = text.indexOf('w_2_t_32_d_10') - 5;
  const b = Buffer.from(npy);
  return Buffer.concat([b.subarray(0, first), b.subarray(second, third), b.subarray(first, second), b.subarray(third)]);
}
