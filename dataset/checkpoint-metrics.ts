/**
 * The metrics of one checkpoint folder (SEMANTICS.md "Metrics of one checkpoint folder"), from the bytes of
 * its six metric files. Pure: the caller reads the files; this parses them and applies SEMANTICS.md's
 * formulas.
 *
 * Precision rule (SEMANTICS.md "The mean, exactly"): a mean is taken in float32 only when every value is a
 * numpy float32 scalar (what `np.mean` of such a list does); Python floats, Python ints and numpy float64
 * give float64. In the real files that makes CKA a float32 mean and everything else a float64 mean.
 *
 * Seeds: every file is averaged over its own seeds. SEMANTICS.md does not make a mismatch between files an
 * error (each metric is a mean over the runs its file has), so a mismatch is a note, not a failure. Within a
 * file the seeds must be 0..n-1 (SEMANTICS.md: "keyed 0..n-1"): a gap is a lost run, an error naming the
 * missing seed.
 *
 * Values: an infinite measurement is an error naming its place, and so is a NaN in some seeds but not all
 * (numpy's mean would quietly turn the other runs into a NaN cell: a lost configuration). A metric NaN in
 * every seed was not measured: it is NaN, like an absent file (the synthetic generator writes a NaN grid
 * cell that way). SEMANTICS.md's own rule comes first: NaN CKA entries are skipped.
 */
import { sep } from 'node:path';
import { NpArray, type PyDict, type PyValue, type ReadLimits, readNpz, readPickle } from '../formats/index.js';
import { MetricsStructureError } from './errors.js';
import { ln } from './ln.js';
import { METRIC_FILES, METRICS_OF_FILE, type MetricFile, type Metrics } from './metrics.js';
import { numpyMean, type MeanPrecision } from './numpy-mean.js';
import { PyPlace, type PyFloat, describePy, expectDict, expectFloat, expectKey, expectSequence, isSeedKey } from './py-inspect.js';

export { METRIC_FILES, METRICS_OF_FILE, METRIC_NAMES, type MetricFile, type MetricName, type Metrics } from './metrics.js';

export interface CheckpointMetrics {
  /** NaN where the file giving the metric is absent (or its values are NaN). */
  metrics: Metrics;
  /** Number of seeds (runs): from the first seeded file present, in METRIC_FILES order; 0 if none is. */
  seeds: number;
  /** Things a person should know that are not errors: absent files, seed counts that differ, all-NaN CKA. */
  notes: string[];
}

/**
 * Reader limits for metric files, far tighter than the readers' defaults (made for the 2 MB published
 * dictionary and more): a real metric file holds kilobytes, so a pickle or an .npz member that would
 * allocate more than this is hostile (a 500 kB "zip bomb" inflating to 512 MiB, say) and fails naming
 * the limit before the memory is taken.
 */
const METRIC_FILE_LIMITS: Partial<ReadLimits> = { maxBytes: 64 * 1024 * 1024 };

/** Number of points on the Bezier curve in `curve_test.npz` (SEMANTICS.md: 5). */
const CURVE_POINTS = 5;

/** The note for an absent metric file: `loss_acc_test.pkl absent: test_acc, test_loss are NaN`. */
export function absenceNote(name: MetricFile): string {
  return `${name} absent: ${METRICS_OF_FILE[name].join(', ')} ${METRICS_OF_FILE[name].length === 1 ? 'is' : 'are'} NaN`;
}

/**
 * Computes SEMANTICS.md's metrics of one checkpoint folder.
 * @param files the six files by name (`METRIC_FILES`); `null` (or no entry) = the file is absent, which
 *   gives NaN metrics and a note, not an error
 * @param folder the folder's path, used in messages (errors name `folder/file`)
 * @throws FormatError (from the readers) when a file is not a valid pickle / npz;
 *   MetricsStructureError when it is, but is not shaped as SEMANTICS.md says
 */
export function extractCheckpointMetrics(files: ReadonlyMap<string, Uint8Array | null>, folder: string): CheckpointMetrics {
  const m: Metrics = {
    test_acc: NaN, test_loss: NaN, train_acc: NaN, train_loss: NaN, hessian_e: NaN, hessian_t: NaN,
    mode_connectivity: NaN, mode_connectivity_peak: NaN, CKA: NaN, generalization_gap: NaN, L2: NaN,
  };
  const notes: string[] = [];
  const seedCounts: Array<[MetricFile, number]> = [];

  for (const name of METRIC_FILES) {
    const bytes = files.get(name) ?? null;
    if (bytes === null) {
      notes.push(absenceNote(name));
      continue;
    }
    const file = `${folder}${sep}${name}`; // as the parse task names its inputs (path.join: ~19 ms a cold build)
    switch (name) {
      case 'loss_acc_test.pkl':
      case 'loss_acc.pkl': {
        const r = lossAcc(readPickle(bytes, file, METRIC_FILE_LIMITS), file);
        if (name === 'loss_acc_test.pkl') [m.test_acc, m.test_loss] = [r.acc, r.loss];
        else [m.train_acc, m.train_loss] = [r.acc, r.loss];
        seedCounts.push([name, r.seeds]);
        break;
      }
      case 'hessian.pkl': {
        const r = hessian(readPickle(bytes, file, METRIC_FILE_LIMITS), file);
        [m.hessian_e, m.hessian_t] = [r.e, r.t];
        seedCounts.push([name, r.seeds]);
        break;
      }
      case 'curve_test.npz':
        [m.mode_connectivity, m.mode_connectivity_peak] = modeConnectivity(readTrErr(bytes, file));
        break;
      case 'CKA_mixup_alpha_16.0.pkl': {
        const r = cka(readPickle(bytes, file, METRIC_FILE_LIMITS), file);
        m.CKA = r.cka;
        seedCounts.push([name, r.seeds]);
        if (r.pairs > 0 && r.used === 0) notes.push(`${file}: every CKA entry with a != b is NaN: CKA is NaN`);
        else if (r.used < r.pairs) notes.push(`${file}: ${r.pairs - r.used} of ${r.pairs} CKA entries are NaN and were skipped`);
        break;
      }
      case 'model_dist.pkl': {
        const r = modelDistance(readPickle(bytes, file, METRIC_FILE_LIMITS), file);
        m.L2 = r.l2;
        seedCounts.push([name, r.seeds]);
        break;
      }
    }
  }
  m.generalization_gap = m.train_acc - m.test_acc;

  const seeds = seedCounts.length > 0 ? seedCounts[0][1] : 0;
  if (seedCounts.some(([, n]) => n !== seeds)) {
    notes.push(`seed counts differ between files (${seedCounts.map(([f, n]) => `${f}: ${n}`).join(', ')}); each metric is the mean over its own file's seeds`);
  }
  return { metrics: m, seeds, notes };
}

/** Collects floats and remembers whether all were float32 (then numpy's mean is a float32 mean). */
class FloatBag {
  readonly values: number[] = [];
  private allF32 = true;
  /** Where the first NaN is, and how many there are: some NaN among numbers is an error (see the header). */
  private nanAt: PyPlace | undefined;
  private nans = 0;
  add(v: PyValue, place: PyPlace, what?: string): void {
    this.addFloat(expectFloat(v, place, what), place);
  }
  addFloat(f: PyFloat, place: PyPlace): void {
    if (f.value === Infinity || f.value === -Infinity) throw notFinite(f.value, place);
    if (Number.isNaN(f.value)) {
      this.nans++;
      this.nanAt ??= place;
    }
    this.values.push(f.value);
    if (!f.f32) this.allF32 = false;
  }
  /** The precision numpy would compute in: float32 only if every value is a float32. */
  get precision(): MeanPrecision {
    return this.allF32 && this.values.length > 0 ? 'f4' : 'f8';
  }
  mean(): number {
    if (this.nans > 0 && this.nans < this.values.length) throw notFinite(NaN, this.nanAt!, `${this.nans} of ${this.values.length} values NaN`);
    return numpyMean(this.values, this.precision);
  }
  /**
   * ln(mean), as np.log would give it: a float32 mean has a float32 log (here the correctly rounded one;
   * numpy's own float32 log can be one float32 ulp off it. The real files hold no float32 hessian values).
   */
  logMean(): number {
    const y = ln(this.mean());
    return this.precision === 'f4' ? Math.fround(y) : y;
  }
}

/** A measurement that is NaN or infinite where a number must be: an error at its place, with what it usually means. */
function notFinite(value: number, place: PyPlace, context?: string): MetricsStructureError {
  const spelled = Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return new MetricsStructureError(
    place.file,
    'a finite number',
    `${spelled}${context ? ` (${context})` : ''}`,
    place.where,
    'a NaN or infinite measurement means the run diverged or the metric computation failed: recompute this file, or remove it (its metrics become NaN and the report lists it as missing)',
  );
}

/** The top-level `{seed: ...}` dict: integer keys, at least one. */
function seedDict(v: PyValue, place: PyPlace): PyDict {
  const d = expectDict(v, place);
  if (d.size === 0) throw place.fail('an empty dict (no seeds)');
  checkSeeds(d, place);
  return d;
}

/**
 * Keys must be the seeds 0..n-1 (docs/SEMANTICS.md): a gap is a run that was lost, not a smaller mean to take
 * quietly.
 */
function checkSeeds(d: PyDict, place: PyPlace): void {
  let max = -1;
  for (const k of d.keys()) {
    if (!isSeedKey(k) || Number(k) < 0) throw place.fail(`${describePy(d)} (not seed numbers)`);
    max = Math.max(max, Number(k));
  }
  if (max < d.size) return; // n distinct integers in 0..n-1: exactly the seeds 0..n-1
  const missing: number[] = [];
  for (let s = 0; s <= max && missing.length < 5; s++) if (!d.has(s) && !d.has(BigInt(s))) missing.push(s);
  const seeds = [...d.keys()].map(Number).sort((a, b) => a - b).join(', ');
  throw place.fail(`seeds ${seeds}: seed${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`, 'the seeds 0..n-1, each with its run');
}

function lossAcc(value: PyValue, file: string): { acc: number; loss: number; seeds: number } {
  const top = new PyPlace(file, "{seed: {'accuracy': float, 'loss': float, ...}}");
  const seeds = seedDict(value, top);
  const acc = new FloatBag();
  const loss = new FloatBag();
  seeds.forEach((run, seed) => {
    const at = top.at(seed);
    const d = expectDict(run, at);
    acc.add(expectKey(d, 'accuracy', at), at.at('accuracy'));
    loss.add(expectKey(d, 'loss', at), at.at('loss'));
  });
  return { acc: acc.mean(), loss: loss.mean(), seeds: seeds.size };
}

function hessian(value: PyValue, file: string): { e: number; t: number; seeds: number } {
  const top = new PyPlace(file, "{seed: {'top_eigenvalue': [float, ...], 'trace': float}}");
  const seeds = seedDict(value, top);
  const eig = new FloatBag();
  const trace = new FloatBag();
  seeds.forEach((run, seed) => {
    const at = top.at(seed);
    const d = expectDict(run, at);
    const topAt = at.at('top_eigenvalue');
    const list = expectSequence(expectKey(d, 'top_eigenvalue', at), topAt, 'a non-empty list of floats');
    if (list.length === 0) throw topAt.fail('an empty list', 'a non-empty list of floats');
    eig.add(list.get(0), topAt.at(0));
    trace.add(expectKey(d, 'trace', at), at.at('trace'));
  });
  return { e: eig.logMean(), t: trace.logMean(), seeds: seeds.size };
}

/** `tr_err` of curve_test.npz as float64 values, plus whether numpy would compute with it in float32. */
function readTrErr(bytes: Uint8Array, file: string): { values: ArrayLike<number>; f32: boolean } {
  const arrays = readNpz(bytes, file, { only: ['tr_err'], limits: METRIC_FILE_LIMITS });
  const arr = arrays.get('tr_err');
  const expected = `an array 'tr_err' of ${CURVE_POINTS} floats`;
  if (!arr) throw new MetricsStructureError(file, expected, 'no tr_err.npy', 'in the archive');
  const isFloat = arr instanceof NpArray && (arr.dtype.str.endsWith('f8') || arr.dtype.str.endsWith('f4'));
  if (!isFloat || arr.shape.length !== 1 || arr.shape[0] !== CURVE_POINTS) {
    throw new MetricsStructureError(file, expected, describePy(arr), "at 'tr_err'");
  }
  const data = arr.data as Float64Array | Float32Array;
  // NaN keeps numpy's semantics (modeConnectivity); an infinite error rate is no measurement at all.
  const bad = data.findIndex((x) => x === Infinity || x === -Infinity);
  if (bad >= 0) throw notFinite(data[bad], new PyPlace(file, expected, ['tr_err', bad]));
  return { values: arr.data as Float64Array | Float32Array, f32: arr.dtype.str.endsWith('f4') };
}

/**
 * SEMANTICS.md: mid = (tr_err[0] + tr_err[4]) / 2; u = first index of the largest |tr_err - mid|;
 * mode_connectivity = mid - tr_err[u]; peak = -max(tr_err[1..3]). numpy semantics for NaN: any NaN
 * makes both NaN (np.argmax picks the first NaN, np.max propagates it). A float32 array is computed in
 * float32, as numpy would.
 */
export function modeConnectivity(trErr: { values: ArrayLike<number>; f32: boolean }): [number, number] {
  const r = trErr.f32 ? Math.fround : (x: number) => x;
  const t = trErr.values;
  const last = t.length - 1;
  const mid = r(r(t[0] + t[last]) / 2);
  let u = 0;
  let best = -Infinity;
  let peak = -Infinity;
  let sawNaN = false;
  for (let i = 0; i <= last; i++) {
    const d = Math.abs(r(t[i] - mid));
    if (Number.isNaN(d)) sawNaN = true;
    else if (d > best) [best, u] = [d, i];
    if (i > 0 && i < last) peak = Number.isNaN(t[i]) ? NaN : Math.max(peak, t[i]);
  }
  const mc = sawNaN ? NaN : r(mid - t[u]);
  return [mc, -peak];
}

/**
 * The dict of dicts `{a: {b: ...}}` of CKA and model distance; calls `each` for every a != b. The metric
 * readers walk their dicts with `forEach`: the entry arrays of `for...of` over a Map were ~30 MB of
 * garbage in a cold build (code that runs a few thousand times is rarely optimised enough to drop them).
 */
function pairs(d: PyDict, place: PyPlace, each: (v: PyValue, at: PyPlace) => void): number {
  checkSeeds(d, place);
  d.forEach((row, a) => {
    const rowAt = place.at(a);
    expectDict(row, rowAt).forEach((v, b) => {
      if (!isSeedKey(b)) throw rowAt.fail(`${describePy(row)} (not seed numbers)`);
      if (a !== b) each(v, rowAt.at(b));
    });
  });
  return d.size;
}

function cka(value: PyValue, file: string): { cka: number; seeds: number; pairs: number; used: number } {
  const top = new PyPlace(file, "{'representation_similarity': {a: {b: [float32, ...]}}, ...}");
  const rs = expectDict(expectKey(expectDict(value, top), 'representation_similarity', top), top.at('representation_similarity'));
  const bag = new FloatBag();
  let total = 0;
  const seeds = pairs(rs, top.at('representation_similarity'), (v, at) => {
    const list = expectSequence(v, at, 'a non-empty list of floats');
    if (list.length === 0) throw at.fail('an empty list', 'a non-empty list of floats');
    total++;
    const x = expectFloat(list.get(list.length - 1), at.at(list.length - 1));
    // SEMANTICS.md: NaN entries are skipped (removed before the mean; not np.nanmean, whose zeros shift the
    // pairwise sum: the sample's expected CSV agrees with removal, and differs from nanmean once).
    if (!Number.isNaN(x.value)) bag.addFloat(x, at.at(list.length - 1));
  });
  return { cka: bag.mean(), seeds, pairs: total, used: bag.values.length };
}

function modelDistance(value: PyValue, file: string): { l2: number; seeds: number } {
  const top = new PyPlace(file, "{'model_distance': {a: {b: {'dist': float}}}}");
  const md = expectDict(expectKey(expectDict(value, top), 'model_distance', top), top.at('model_distance'));
  const bag = new FloatBag();
  const seeds = pairs(md, top.at('model_distance'), (v, at) => {
    bag.add(expectKey(expectDict(v, at), 'dist', at), at.at('dist'));
  });
  return { l2: bag.mean(), seeds };
}
