/**
 * One configuration's six metric files, as loss_landscape_taxonomy writes them (protocol-3 pickles with
 * numpy scalars, a stored npz), holding per-seed values from which the extractor computes the given
 * metric values (SEMANTICS.md "Metrics of one checkpoint folder").
 */
import type { MetricFile } from '../dataset/metrics.js';
import { NpDtype, NpScalar, type PickleInput, PyFloat, type PyKey, writeNpz, writePickle, type WritePickleOptions } from '../formats/index.js';
import { curveArrays, trErrFor } from './curve.js';
import { fitMean, LN, scatterAround, type FitOptions, type ScatterOptions } from './fit-seeds.js';
import { accuracyStep, trainImages, type CellValues } from './model.js';
import type { Rng } from './prng.js';

/** What one checkpoint folder is made from. */
export interface CheckpointSpec {
  /** The metric values the extractor should compute (NaN: the file is left out, or its values are NaN). */
  values: CellValues;
  /** ResNet-18 width (the weight-decay share of the curve's losses grows with it). */
  width: number;
  /** Data fraction as spelled in the folder ("10"): accuracies are whole numbers of images. */
  data: string;
  /** Number of seeds (runs) per file. */
  seeds: number;
  /**
   * true: every metric comes out as given, to the bit where a float allows it (from a published grid).
   * false: per-seed accuracies are whole numbers of images, as real ones, and their mean is what it is
   * (the built-in model: its values need not be hit exactly).
   */
  exact: boolean;
}

/** Metrics the files reproduce (L2 is approximate in both modes: it is not in any published grid). */
export type FittedMetric = Exclude<keyof CellValues, 'L2'>;

export interface CheckpointFiles {
  /** File name to bytes, in METRIC_FILES order; a file whose metrics are all NaN is absent. */
  files: Map<MetricFile, Uint8Array>;
  /** What the extractor will compute for each metric fitted to its value (all but L2 when `exact`). */
  achieved: Partial<Record<FittedMetric, number>>;
  /** Fitted metrics that miss the given value (no float hits it; the miss is an ulp or so). */
  inexact: FittedMetric[];
}

const F4 = new NpDtype('<f4');
const F8 = new NpDtype('<f8');
/** float32 spellings of 1 that the real CKA diagonals hold (self-similarity up to rounding). */
const ONE_ISH = [1, 1, 1, Math.fround(1.0000001), Math.fround(0.99999994)];

const seedKeys = (n: number) => Array.from({ length: n }, (_, i) => i);
const pyf = (x: number) => new PyFloat(x);
const f32 = (x: number) => new NpScalar(F4, Math.fround(x));
const f64 = (x: number) => new NpScalar(F8, x);

/**
 * Builds the six files of one checkpoint folder.
 * @param spec values and how exactly to hit them
 * @param rng the folder's own stream (consumed in a fixed order, so equal inputs give equal bytes)
 * @param pickle protocol and numpy module of the pickles (default: protocol 3, numpy.core, as the real files)
 */
export function checkpointFiles(spec: CheckpointSpec, rng: Rng, pickle: WritePickleOptions = {}): CheckpointFiles {
  const v = spec.values;
  const n = spec.seeds;
  const files = new Map<MetricFile, Uint8Array>();
  const achieved: Partial<Record<FittedMetric, number>> = {};
  const inexact: FittedMetric[] = [];
  const pk = (value: PickleInput) => writePickle(value, { protocol: 3, ...pickle });

  /** Seeds around `target` whose (transformed) mean the extractor computes as `target`. */
  const seedsFor = (metric: FittedMetric, target: number, scatter: ScatterOptions, fit: FitOptions, count = n): number[] => {
    const initial = scatterAround(fit.transform ? fit.transform.invert(target) : target, count, rng, scatter);
    if (!spec.exact && scatter.quantum) {
      const round = fit.precision === 'f4' ? Math.fround : (x: number) => x;
      return initial.map(round);
    }
    let r = fitMean(initial, target, fit);
    const inBounds = (x: number) => !(x < (scatter.min ?? -Infinity) || x > (scatter.max ?? Infinity));
    if (!r.values.every(inBounds) && scatter.quantum) {
      // Rounding the others to whole images pushed the fitted one out of range (an accuracy above 100
      // next to a mean of 99.9995): fit unrounded values instead.
      r = fitMean(scatterAround(fit.transform ? fit.transform.invert(target) : target, count, rng, { ...scatter, quantum: undefined }), target, fit);
    }
    achieved[metric] = r.achieved;
    if (!r.exact && !Number.isNaN(target)) inexact.push(metric);
    return r.values;
  };
  const f8: FitOptions = { precision: 'f8' };

  // loss_acc_test.pkl / loss_acc.pkl: {seed: {'nll', 'loss', 'accuracy'}}, nll == loss as in the real files.
  const lossAcc = (accMetric: 'test_acc' | 'train_acc', lossMetric: 'test_loss' | 'train_loss', images: number, lossSpread: number) => {
    const acc = seedsFor(accMetric, v[accMetric], { spread: 0.25, min: 0, max: 100, quantum: accuracyStep(images) }, f8);
    const loss = seedsFor(lossMetric, v[lossMetric], { spread: lossSpread * Math.abs(v[lossMetric]), min: 0 }, f8);
    const d = new Map<PyKey, PickleInput>();
    for (const s of seedKeys(n)) {
      d.set(s, new Map<PyKey, PickleInput>([['nll', pyf(loss[s])], ['loss', pyf(loss[s])], ['accuracy', pyf(acc[s])]]));
    }
    return pk(d);
  };
  if (!(Number.isNaN(v.test_acc) && Number.isNaN(v.test_loss))) {
    files.set('loss_acc_test.pkl', lossAcc('test_acc', 'test_loss', 10000, 0.02));
  }
  if (!(Number.isNaN(v.train_acc) && Number.isNaN(v.train_loss))) {
    files.set('loss_acc.pkl', lossAcc('train_acc', 'train_loss', trainImages(spec.data), 0.08));
  }

  // hessian.pkl: {seed: {'top_eigenvalue': [float], 'trace': numpy.float64}}; hessian_* = ln(mean).
  if (!(Number.isNaN(v.hessian_e) && Number.isNaN(v.hessian_t))) {
    const ln8: FitOptions = { precision: 'f8', transform: LN };
    const top = seedsFor('hessian_e', v.hessian_e, { spread: 0.12 * Math.exp(v.hessian_e), min: 0 }, ln8);
    const trace = seedsFor('hessian_t', v.hessian_t, { spread: 0.12 * Math.exp(v.hessian_t), min: 0 }, ln8);
    const d = new Map<PyKey, PickleInput>();
    for (const s of seedKeys(n)) {
      d.set(s, new Map<PyKey, PickleInput>([['top_eigenvalue', [pyf(top[s])]], ['trace', f64(trace[s])]]));
    }
    files.set('hessian.pkl', pk(d));
  }

  // curve_test.npz: tr_err carries both mode-connectivity metrics; the other 33 arrays are context.
  const curveRng = rng.fork('curve');
  if (!(Number.isNaN(v.mode_connectivity) && Number.isNaN(v.mode_connectivity_peak))) {
    const c = trErrFor(v.mode_connectivity, v.mode_connectivity_peak);
    [achieved.mode_connectivity, achieved.mode_connectivity_peak] = c.achieved;
    if (!c.exact) {
      if (!Object.is(c.achieved[0], v.mode_connectivity)) inexact.push('mode_connectivity');
      if (!Object.is(c.achieved[1], v.mode_connectivity_peak)) inexact.push('mode_connectivity_peak');
    }
    const arrays = curveArrays(c.trErr, {
      testAcc: Number.isFinite(v.test_acc) ? v.test_acc : 80,
      testLoss: Number.isFinite(v.test_loss) ? v.test_loss : 0.7,
      distance: Number.isFinite(v.L2) ? v.L2 : 6.5 * Math.sqrt(spec.width),
      regularization: 0.041 * Math.sqrt(spec.width),
    }, curveRng);
    files.set('curve_test.npz', writeNpz(new Map(arrays)));
  }

  // CKA_mixup_alpha_16.0.pkl: the last element of representation_similarity[a][b], a != b, is the CKA
  // of the last layer; its float32 mean over every pair (in dict order) is the metric.
  if (!Number.isNaN(v.CKA)) {
    const pairs = n * (n - 1);
    const last = pairs > 0 ? seedsFor('CKA', v.CKA, { spread: 0.015, min: 0, max: 1 }, { precision: 'f4' }, pairs) : [];
    const rs = new Map<PyKey, PickleInput>();
    let p = 0;
    for (const a of seedKeys(n)) {
      const row = new Map<PyKey, PickleInput>();
      for (const b of seedKeys(n)) {
        if (a === b) {
          row.set(b, [f32(pick(ONE_ISH, rng)), f32(pick(ONE_ISH, rng))]);
        } else {
          const cka = last[p++];
          // An earlier layer: more similar across seeds than the last one.
          const earlier = Math.min(1, cka + (1 - cka) * (0.35 + 0.05 * rng.normal()));
          row.set(b, [f32(earlier), f32(cka)]);
        }
      }
      rs.set(a, row);
    }
    const classification = new Map<PyKey, PickleInput>(seedKeys(n).map((s) => [s, new Map()]));
    files.set('CKA_mixup_alpha_16.0.pkl', pk(new Map<PyKey, PickleInput>([
      ['representation_similarity', rs],
      ['classification_similarity', classification],
      ['test_accuracy', new Map()],
    ])));
  }

  // model_dist.pkl: symmetric {a: {b: {'dist': float}}}, 0.0 on the diagonal; float32 precision as the
  // real distances (computed by torch in float32).
  if (!Number.isNaN(v.L2)) {
    const upper = scatterAround(v.L2, (n * (n - 1)) / 2, rng, { spread: 0.015 * v.L2, min: 0 }).map(Math.fround);
    const dist: number[][] = seedKeys(n).map(() => new Array<number>(n).fill(0));
    let p = 0;
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) dist[a][b] = dist[b][a] = upper[p++];
    const md = new Map<PyKey, PickleInput>();
    for (const a of seedKeys(n)) {
      md.set(a, new Map<PyKey, PickleInput>(seedKeys(n).map((b) => [b, new Map<PyKey, PickleInput>([['dist', pyf(dist[a][b])]])])));
    }
    files.set('model_dist.pkl', pk(new Map<PyKey, PickleInput>([['model_distance', md]])));
  }

  return { files, achieved, inexact };
}

function pick<T>(items: readonly T[], rng: Rng): T {
  return items[Math.floor(rng.next() * items.length)];
}
