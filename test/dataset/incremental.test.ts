/**
 * The incremental stages (grid, rfi, labels, text exports) patched from their previous outputs give the
 * same bytes as a full recomputation, after random additions, removals and edits of checkpoints. Previous
 * values go through a v8 round trip, as the engine stores them; values are compared as v8 bytes, files
 * byte for byte. Each case counts how often the patch applied, so a patch that always bails out fails.
 */
import v8 from 'node:v8';
import { coverageReport } from '../../dataset/coverage.js';
import { configurationName, type Axes, type ConfigurationKey } from '../../dataset/grid.js';
import { readGridNpz, writeGridNpz } from '../../dataset/grid-npz.js';
import { labelOutput, patchLabels, type LabelOutput } from '../../dataset/labels.js';
import { METRIC_FILES, METRIC_NAMES, type Metrics } from '../../dataset/metrics.js';
import { buildRawGrid, patchRawGrid, type ConfiguredAxes, type FoundCheckpoint, type RawGridOutput } from '../../dataset/raw-grid.js';
import { patchRfi, rfiOutput, type RfiOutput } from '../../dataset/rfi.js';
import { patchTextExports, textExports, type TextExports } from '../../dataset/text-exports.js';
import { prng } from '../helpers/prng.js';

const roundTrip = <T>(value: T): T => v8.deserialize(v8.serialize(value)) as T;
const bytes = (value: unknown): Buffer => v8.serialize(value);

/** Values picked from small pools, so ties (optimal labels), NaN neighbours and -0.0 are frequent. */
function checkpoint(rand: () => number, coords: ConfigurationKey): FoundCheckpoint {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const metrics = {} as Metrics;
  for (const m of METRIC_NAMES) metrics[m] = pick([NaN, -0, 0.5, 1e-5, 53.19, 60, 60, 61.25, 70, 88.5]);
  metrics.test_acc = pick([NaN, 50, 60, 60, 70, 80, 80.5]);
  const absent = METRIC_FILES.filter(() => rand() < 0.1);
  if (absent.includes('loss_acc_test.pkl')) metrics.test_acc = metrics.test_loss = NaN;
  const p: FoundCheckpoint = { coords, metrics, absent };
  if (rand() < 0.15) p.notes = [`seed counts differ between files (${pick(['a', 'b'])})`];
  return p;
}

interface Stages {
  grid: RawGridOutput;
  rfi: RfiOutput;
  labels: LabelOutput;
  files: TextExports & { npz: Uint8Array; report: string };
}

function fullStages(configured: ConfiguredAxes, found: FoundCheckpoint[], outside: { folder: string; reason: string }[]): Stages {
  const grid = buildRawGrid(configured, found, outside);
  return downstream(grid, null);
}

/** rfi, labels and files from `grid`, patched from `previous` when given (null where a patch bailed out counts). */
function downstream(grid: RawGridOutput, previous: Stages | null, counts?: Record<string, number>): Stages {
  const g = grid.grid;
  const count = (stage: string, patched: unknown) => {
    if (counts) counts[`${stage}:${patched ? 'patched' : 'full'}`] = (counts[`${stage}:${patched ? 'patched' : 'full'}`] ?? 0) + 1;
    return patched;
  };
  const rfiPatched = previous && (count('rfi', patchRfi(roundTrip(previous.rfi), g.metrics.test_acc, g.axes)) as RfiOutput | null);
  const rfi = rfiPatched ?? rfiOutput(g.metrics.test_acc, g.axes);
  const labelsPatched = previous && (count('labels', patchLabels(roundTrip(previous.labels), rfi.grids)) as LabelOutput | null);
  const labels = labelsPatched ?? labelOutput(rfi.grids);
  const inputs = { grid: g, rfi: rfi.grids, labels: labels.labels, dictionary: { noise: 10 } };
  const textPatched =
    previous &&
    (count('text', patchTextExports({ grid: readGridNpz(previous.files.npz, 'grid.npz'), csv: previous.files.csv, json: previous.files.json }, inputs)) as TextExports | null);
  const text = textPatched ?? textExports(inputs);
  const report = JSON.stringify(coverageReport('c', g, grid.coverage, labels.labels), null, 2);
  return { grid, rfi, labels, files: { ...text, npz: writeGridNpz(g), report } };
}

function expectSame(patched: Stages, full: Stages, step: string): void {
  // Structural first (readable diffs), then bytes.
  expect({ step, value: roundTrip(patched.grid) }).toEqual({ step, value: roundTrip(full.grid) });
  expect({ step, same: bytes(patched.grid).equals(bytes(full.grid)) }).toEqual({ step, same: true });
  expect({ step, same: bytes(patched.rfi).equals(bytes(full.rfi)) }).toEqual({ step, same: true });
  expect({ step, same: bytes(patched.labels).equals(bytes(full.labels)) }).toEqual({ step, same: true });
  expect({ step, csv: Buffer.from(patched.files.csv).toString() }).toEqual({ step, csv: Buffer.from(full.files.csv).toString() });
  for (const f of ['csv', 'json', 'npz'] as const) {
    expect({ step, f, same: Buffer.from(patched.files[f]).equals(Buffer.from(full.files[f])) }).toEqual({ step, f, same: true });
  }
  expect({ step, report: patched.files.report }).toEqual({ step, report: full.files.report });
}

/**
 * Applies `steps` random batches of 1-3 additions, removals and edits to a tree over `universe` (the values
 * checkpoints may take), checking after each batch that patching equals a full recomputation.
 */
function fuzz(seed: number, universe: Axes, configured: ConfiguredAxes, steps: number): Record<string, number> {
  const rand = prng(seed);
  const cells: ConfigurationKey[] = [];
  for (const bs of universe.bs) for (const width of universe.width) for (const data of universe.data) cells.push({ bs, width, data });
  const tree = new Map<string, FoundCheckpoint>();
  for (const c of cells) if (rand() < 0.7) tree.set(configurationName(c), checkpoint(rand, c));
  const outside = [{ folder: 'x/bs_999', reason: 'bs 999 is not on the configured bs axis' }];
  let previous = fullStages(configured, [...tree.values()], outside);
  const counts: Record<string, number> = {};
  for (let step = 0; step < steps; step++) {
    const changed = new Map<string, FoundCheckpoint>();
    const removed = new Map<string, ConfigurationKey>();
    const batch = 1 + Math.floor(rand() * 3);
    for (let b = 0; b < batch; b++) {
      const c = cells[Math.floor(rand() * cells.length)];
      const name = configurationName(c);
      if (tree.has(name) && rand() < 0.4) {
        tree.delete(name);
        changed.delete(name);
        removed.set(name, c);
      } else {
        const p = checkpoint(rand, c); // an edit if present, an addition if not
        tree.set(name, p);
        removed.delete(name);
        changed.set(name, p);
      }
    }
    if (tree.size === 0) break;
    // The engine hands over decoded values: parse outputs of the changed checkpoints, the previous outputs.
    const patchedGrid = patchRawGrid(roundTrip(previous.grid), configured, roundTrip([...changed.values()]), [...removed.values()], outside);
    counts[`grid:${patchedGrid ? 'patched' : 'full'}`] = (counts[`grid:${patchedGrid ? 'patched' : 'full'}`] ?? 0) + 1;
    const grid = patchedGrid ?? buildRawGrid(configured, [...tree.values()], outside);
    const patched = downstream(grid, previous, counts);
    const full = fullStages(configured, roundTrip([...tree.values()]), outside);
    expectSame(patched, full, `seed ${seed} step ${step}`);
    previous = patched;
  }
  return counts;
}

const UNIVERSE: Axes = { bs: [16, 32, 64, 128], width: [2, 4, 8], data: ['10', '05', '01'] };

describe('incremental stages equal a full recomputation, byte for byte', () => {
  test('configured axes: every batch is patched', () => {
    const counts = fuzz(1, UNIVERSE, UNIVERSE, 60);
    expect(counts).toEqual({ 'grid:patched': 60, 'rfi:patched': 60, 'labels:patched': 60, 'text:patched': 60 });
  });

  test('discovered axes: patched while the axes hold, in full when a value comes or goes', () => {
    const counts = { 'grid:patched': 0, 'grid:full': 0 };
    for (const seed of [2, 3, 4]) {
      const c = fuzz(seed, { bs: [16, 32, 64], width: [2, 4], data: ['10', '05'] }, { width: [2, 4] }, 40);
      counts['grid:patched'] += c['grid:patched'] ?? 0;
      counts['grid:full'] += c['grid:full'] ?? 0;
    }
    // Both paths taken, and the patch the common one.
    expect(counts['grid:full']).toBeGreaterThan(0);
    expect(counts['grid:patched']).toBeGreaterThan(counts['grid:full']);
  });

  test('a patch touches the lines through a changed cell only', () => {
    // One edit on 4 x 3 x 3 axes: the text exports re-format at most 4 + 3 + 3 - 2 = 8 of 36 rows; the
    // other rows' bytes are the previous file's (the splice is what makes it independent of the size).
    const rand = prng(7);
    const all: FoundCheckpoint[] = [];
    for (const bs of UNIVERSE.bs) for (const width of UNIVERSE.width) for (const data of UNIVERSE.data) all.push(checkpoint(rand, { bs, width, data }));
    const before = fullStages(UNIVERSE, all, []);
    const edited = { ...all[5], metrics: { ...all[5].metrics, test_acc: 99 } };
    const grid = patchRawGrid(roundTrip(before.grid), UNIVERSE, [edited], [], [])!;
    const after = downstream(grid, before);
    const lines = (b: Uint8Array) => Buffer.from(b).toString().split('\n');
    const differ = lines(after.files.csv).filter((l, i) => l !== lines(before.files.csv)[i]).length;
    expect(differ).toBeGreaterThan(0);
    expect(differ).toBeLessThanOrEqual(8);
  });

  test('NaN payloads and -0.0 count as changes (the value is compared bit for bit)', () => {
    const axes: Axes = { bs: [16, 32], width: [2], data: ['10'] };
    const before = new Float64Array([NaN, 0]);
    const after = new Float64Array([NaN, -0]);
    new DataView(after.buffer).setUint32(4, 0x7ff80001, true); // another NaN's bits
    const previous = rfiOutput(before, axes);
    expect(bytes(patchRfi(roundTrip(previous), after, axes)).equals(bytes(rfiOutput(after, axes)))).toBe(true);
    expect(patchRfi(previous, new Float64Array(3), { bs: [16, 32, 64], width: [2], data: ['10'] })).toBeNull();
  });
});

test('a previous value of another shape is ignored, not trusted (the patch functions return null)', () => {
  const axes: Axes = { bs: [16], width: [2], data: ['10'] };
  const stale = { grid: { axes, metrics: {} }, coverage: {} } as unknown as RawGridOutput; // no per-cell flags
  expect(patchRawGrid(stale, axes, [], [], [])).toBeNull();
  expect(patchRfi({ grids: {} } as unknown as RfiOutput, new Float64Array(1), axes)).toBeNull();
  expect(patchLabels({ labels: {} } as unknown as LabelOutput, rfiOutput(new Float64Array(1), axes).grids)).toBeNull();
});
