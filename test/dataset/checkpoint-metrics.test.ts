import { FormatError, NpArray, NpDtype, NpScalar, type PyValue, writeNpz, writePickle } from '../../formats/index.js';
import { METRIC_FILES, extractCheckpointMetrics, modeConnectivity } from '../../dataset/checkpoint-metrics.js';
import { MetricsStructureError } from '../../dataset/errors.js';
import { mean32, mean64 } from '../../dataset/numpy-mean.js';

const F4 = new NpDtype('<f4');
const F8 = new NpDtype('<f8');
const f32 = (x: number) => new NpScalar(F4, Math.fround(x));
const f64 = (x: number) => new NpScalar(F8, x);
const dict = (entries: Array<[string | number, PyValue]>): Map<string | number, PyValue> => new Map(entries);
const seedsOf = (n: number) => Array.from({ length: n }, (_, s) => s);
const pkl = (v: PyValue) => writePickle(v, { protocol: 3 });

/** loss_acc(-_test).pkl: {seed: {'nll', 'loss', 'accuracy'}} with Python floats. */
function lossAcc(acc: number[], loss: number[]): Uint8Array {
  return pkl(dict(acc.map((a, s) => [s, dict([['nll', loss[s]], ['loss', loss[s]], ['accuracy', a]])])));
}
/** hessian.pkl: {seed: {'top_eigenvalue': [float], 'trace': numpy float64}}. */
function hessian(top: number[], trace: PyValue[]): Uint8Array {
  return pkl(dict(top.map((t, s) => [s, dict([['top_eigenvalue', [t]], ['trace', trace[s]]])])));
}
/** CKA: {'representation_similarity': {a: {b: [float32, float32]}}, ...}; last element = cka(a, b). */
function ckaFile(n: number, cka: (a: number, b: number) => number): Uint8Array {
  const rs = dict(seedsOf(n).map((a) => [a, dict(seedsOf(n).map((b) => [b, [f32(0.9), f32(cka(a, b))]]))]));
  return pkl(dict([['representation_similarity', rs], ['classification_similarity', dict([])], ['test_accuracy', dict([])]]));
}
/** model_dist.pkl: {'model_distance': {a: {b: {'dist': float}}}}. */
function distFile(n: number, dist: (a: number, b: number) => number): Uint8Array {
  return pkl(dict([['model_distance', dict(seedsOf(n).map((a) => [a, dict(seedsOf(n).map((b) => [b, dict([['dist', a === b ? 0 : dist(a, b)]])]))]))]]));
}
function curve(trErr: number[]): Uint8Array {
  return writeNpz(new Map([
    ['ts', new NpArray(F8, [5], Float64Array.from([0, 0.25, 0.5, 0.75, 1]))],
    ['tr_err', new NpArray(F8, [trErr.length], Float64Array.from(trErr))],
  ]));
}

/** A complete folder with n seeds; values chosen so the means are easy to check by hand. */
function folder(n: number): Map<string, Uint8Array | null> {
  const acc = seedsOf(n).map((s) => 80 + 2 * s); // mean 80 + (n - 1)
  const loss = seedsOf(n).map((s) => 0.5 + 0.25 * s);
  return new Map<string, Uint8Array | null>([
    ['loss_acc_test.pkl', lossAcc(acc, loss)],
    ['loss_acc.pkl', lossAcc(acc.map((a) => a + 10), loss.map((l) => l / 2))],
    ['hessian.pkl', hessian(seedsOf(n).map(() => Math.E), seedsOf(n).map(() => f64(Math.exp(2))))],
    ['curve_test.npz', curve([0, 10, 20, 10, 2])],
    ['CKA_mixup_alpha_16.0.pkl', ckaFile(n, (a, b) => (a === b ? 1 : 0.5))],
    ['model_dist.pkl', distFile(n, () => 40)],
  ]);
}

describe('extractCheckpointMetrics: well-formed folders', () => {
  test.each([3, 5, 7])('%i seeds: every metric by SPEC formula', (n) => {
    const r = extractCheckpointMetrics(folder(n), '/runs/bs_16/w_2');
    expect(r.seeds).toBe(n);
    expect(r.notes).toEqual([]);
    expect(r.metrics.test_acc).toBe(80 + (n - 1));
    expect(r.metrics.train_acc).toBe(90 + (n - 1));
    expect(r.metrics.generalization_gap).toBe(10);
    expect(r.metrics.test_loss).toBe(mean64(seedsOf(n).map((s) => 0.5 + 0.25 * s)));
    expect(r.metrics.hessian_e).toBeCloseTo(1, 15);
    expect(r.metrics.hessian_t).toBeCloseTo(2, 15);
    // tr_err [0, 10, 20, 10, 2]: mid 1, largest |t - mid| at index 2 -> 1 - 20; peak -max(10, 20, 10)
    expect(r.metrics.mode_connectivity).toBe(-19);
    expect(r.metrics.mode_connectivity_peak).toBe(-20);
    expect(r.metrics.CKA).toBe(0.5); // the 1.0 diagonal is excluded
    expect(r.metrics.L2).toBe(40);
  });

  test('CKA: float32 mean of the last elements over a != b, NaN entries skipped', () => {
    const files = folder(5);
    // 0.5 + 0.01 (5a + b) + 0.001 b as float32; (1, 3) and (4, 0) NaN.
    const value = (a: number, b: number) => ((a === 1 && b === 3) || (a === 4 && b === 0) ? NaN : 0.5 + 0.01 * (a * 5 + b) + 0.001 * b);
    files.set('CKA_mixup_alpha_16.0.pkl', ckaFile(5, value));
    const r = extractCheckpointMetrics(files, '/runs/x');
    // /usr/bin/python3: np.mean of those 18 float32 values (NaN removed) = 0.6198332905769348;
    // the float64 mean of the same values would be 0.619833336936103.
    expect(r.metrics.CKA).toBe(0.6198332905769348);
    const used: number[] = [];
    for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) if (a !== b && !Number.isNaN(value(a, b))) used.push(value(a, b));
    expect(mean32(used)).toBe(0.6198332905769348);
    expect(r.notes).toEqual(['/runs/x/CKA_mixup_alpha_16.0.pkl: 2 of 20 CKA entries are NaN and were skipped']);
  });

  test('CKA all NaN: NaN with a note', () => {
    const files = folder(3);
    files.set('CKA_mixup_alpha_16.0.pkl', ckaFile(3, () => NaN));
    const r = extractCheckpointMetrics(files, '/runs/x');
    expect(r.metrics.CKA).toBeNaN();
    expect(r.notes).toEqual(['/runs/x/CKA_mixup_alpha_16.0.pkl: every CKA entry with a != b is NaN: CKA is NaN']);
  });

  test('L2 with 7 seeds: float64 mean of dist over a != b', () => {
    const files = folder(7);
    files.set('model_dist.pkl', distFile(7, (a, b) => 40 + a * 0.1 + b * 0.01));
    // /usr/bin/python3: np.mean([40 + a*0.1 + b*0.01 for a in range(7) for b in range(7) if a != b])
    expect(extractCheckpointMetrics(files, '/runs/x').metrics.L2).toBe(40.330000000000005);
  });

  test('precision follows the values: float32 accuracies give a float32 mean, float64 scalars a float64 one', () => {
    const files = folder(3);
    const acc = [80.1, 80.2, 80.4];
    files.set('loss_acc_test.pkl', pkl(dict(acc.map((a, s) => [s, dict([['loss', f64(a / 100)], ['accuracy', f32(a)]])]))));
    const r = extractCheckpointMetrics(files, '/runs/x');
    expect(r.metrics.test_acc).toBe(mean32(acc.map(Math.fround)));
    expect(r.metrics.test_acc).not.toBe(mean64(acc.map(Math.fround)));
    expect(r.metrics.test_loss).toBe(mean64(acc.map((a) => a / 100)));
  });

  test('hessian: ln of the mean of top_eigenvalue[0] and of trace', () => {
    const files = folder(3);
    files.set('hessian.pkl', hessian([2.861771821975708, 3.980766534805298, 3.1464483737945557], [f64(39.95506429672241), f64(45.7680170694987), f64(44.860406279563904)]));
    const r = extractCheckpointMetrics(files, '/runs/x');
    // /usr/bin/python3: np.log(np.mean([...])) of the same three values
    expect(r.metrics.hessian_e).toBe(Math.log(mean64([2.861771821975708, 3.980766534805298, 3.1464483737945557])));
    expect(r.metrics.hessian_t).toBeCloseTo(Math.log((39.95506429672241 + 45.7680170694987 + 44.860406279563904) / 3), 14);
  });
});

describe('extractCheckpointMetrics: absent files and seed counts', () => {
  test('an absent file gives NaN metrics and a note, not an error', () => {
    const files = folder(5);
    files.set('loss_acc_test.pkl', null);
    files.delete('model_dist.pkl'); // no entry at all counts as absent too
    const r = extractCheckpointMetrics(files, '/runs/x');
    expect(r.metrics.test_acc).toBeNaN();
    expect(r.metrics.test_loss).toBeNaN();
    expect(r.metrics.generalization_gap).toBeNaN();
    expect(r.metrics.L2).toBeNaN();
    expect(r.metrics.train_acc).toBe(94);
    expect(r.notes).toEqual(['loss_acc_test.pkl absent: test_acc, test_loss are NaN', 'model_dist.pkl absent: L2 is NaN']);
    expect(r.seeds).toBe(5);
  });

  test('every file absent: all NaN, 0 seeds, six notes', () => {
    const r = extractCheckpointMetrics(new Map(METRIC_FILES.map((f) => [f, null])), '/runs/x');
    expect(Object.values(r.metrics).every(Number.isNaN)).toBe(true);
    expect(r.seeds).toBe(0);
    expect(r.notes).toHaveLength(6);
  });

  test('seed counts that differ between files are a note; each file is averaged over its own seeds', () => {
    const files = folder(5);
    files.set('hessian.pkl', hessian([Math.E, Math.E, Math.E], [f64(1), f64(1), f64(1)]));
    const r = extractCheckpointMetrics(files, '/runs/x');
    expect(r.seeds).toBe(5);
    expect(r.metrics.hessian_t).toBe(0);
    expect(r.notes).toEqual([
      'seed counts differ between files (loss_acc_test.pkl: 5, loss_acc.pkl: 5, hessian.pkl: 3, CKA_mixup_alpha_16.0.pkl: 5, model_dist.pkl: 5); each metric is the mean over its own file\'s seeds',
    ]);
  });
});

describe('extractCheckpointMetrics: wrong structures are typed errors naming the file', () => {
  const withFile = (name: string, bytes: Uint8Array) => {
    const files = folder(3);
    files.set(name, bytes);
    return () => extractCheckpointMetrics(files, '/runs/bs_16/w_2');
  };

  test('a list at the top level', () => {
    const run = withFile('loss_acc_test.pkl', pkl([1, 2]));
    expect(run).toThrow(MetricsStructureError);
    expect(run).toThrow("/runs/bs_16/w_2/loss_acc_test.pkl: unexpected structure: expected {seed: {'accuracy': float, 'loss': float, ...}}, found a list of 2 at the top level");
    try {
      run();
    } catch (e) {
      expect((e as MetricsStructureError).file).toBe('/runs/bs_16/w_2/loss_acc_test.pkl');
      expect((e as MetricsStructureError).reason).toBe('bad-structure');
    }
  });

  test('a missing key, named with its seed', () => {
    const run = withFile('loss_acc.pkl', pkl(dict([[0, dict([['loss', 1], ['accuracy', 2]])], [1, dict([['loss', 1]])]])));
    expect(run).toThrow(/loss_acc\.pkl: unexpected structure: .* found a dict with keys 'loss' without 'accuracy' at \[1\]/);
  });

  test('a value of the wrong type', () => {
    const run = withFile('loss_acc.pkl', pkl(dict([[0, dict([['loss', 1], ['accuracy', '97%']])]])));
    expect(run).toThrow(/found a str '97%' at \[0\]\['accuracy'\]/);
  });

  test('seed keys that are not ints; an empty dict', () => {
    expect(withFile('hessian.pkl', pkl(dict([['accuracy', 1]])))).toThrow(/hessian\.pkl: .*not seed numbers.* at the top level/);
    expect(withFile('hessian.pkl', pkl(dict([])))).toThrow(/hessian\.pkl: .*found an empty dict \(no seeds\)/);
  });

  test('hessian with an empty top_eigenvalue list', () => {
    const run = withFile('hessian.pkl', pkl(dict([[0, dict([['top_eigenvalue', []], ['trace', f64(1)]])]])));
    expect(run).toThrow(/hessian\.pkl: unexpected structure: expected a non-empty list of floats, found an empty list at \[0\]\['top_eigenvalue'\]/);
  });

  test('CKA without representation_similarity; model_dist entry not a dict', () => {
    expect(withFile('CKA_mixup_alpha_16.0.pkl', pkl(dict([['test_accuracy', dict([])]])))).toThrow(/CKA_mixup_alpha_16\.0\.pkl: .*without 'representation_similarity' at the top level/);
    expect(withFile('model_dist.pkl', pkl(dict([['model_distance', dict([[0, dict([[1, 3.5]])]])]])))).toThrow(/model_dist\.pkl: .*found a float \(3\.5\) at \['model_distance'\]\[0\]\[1\]/);
  });

  test('tr_err of the wrong length', () => {
    const run = withFile('curve_test.npz', curve([1, 2, 3]));
    expect(run).toThrow(MetricsStructureError);
    expect(run).toThrow(/curve_test\.npz: unexpected structure: expected an array 'tr_err' of 5 floats, found a numpy array of shape \(3,\) <f8/);
  });

  test('no tr_err in curve_test.npz: the reader\'s missing-member FormatError', () => {
    const noTrErr = writeNpz(new Map([['ts', new NpArray(F8, [1], Float64Array.from([0]))]]));
    const run = withFile('curve_test.npz', noTrErr);
    expect(run).toThrow(FormatError);
    expect(run).toThrow(/curve_test\.npz: no array 'tr_err'/);
  });

  test('bytes that are not a pickle: the reader\'s FormatError, with the full path', () => {
    const run = withFile('model_dist.pkl', new Uint8Array([1, 2, 3]));
    expect(run).toThrow(FormatError);
    expect(run).toThrow(/\/runs\/bs_16\/w_2\/model_dist\.pkl/);
  });
});

describe('modeConnectivity', () => {
  const mc = (t: number[], f32 = false) => modeConnectivity({ values: t, f32 });
  test('hand-computed cases', () => {
    expect(mc([0, 10, 20, 10, 2])).toEqual([-19, -20]);
    // ties in |t - mid|: the first index wins (np.argmax)
    expect(mc([0, 5, 0, -5, 0])).toEqual([-5, -5]);
    // a barrier-free path: peak -0.0 (SPEC: -0.0 can occur)
    const [m, peak] = mc([1, 0, 0, 0, 1]);
    expect(m).toBe(1);
    expect(Object.is(peak, -0)).toBe(true);
  });
  test('NaN anywhere makes both NaN, as numpy', () => {
    expect(mc([0, NaN, 1, 1, 0])).toEqual([NaN, NaN]);
    expect(mc([NaN, 1, 1, 1, 0])[0]).toBeNaN();
  });
  test('float32 data is computed in float32', () => {
    const t = [0.1, 0.7, 0.3, 0.2, 0.4].map(Math.fround);
    const [m] = mc(t, true);
    expect(m).toBe(Math.fround(Math.fround(Math.fround(t[0] + t[4]) / 2) - t[1]));
  });
});
