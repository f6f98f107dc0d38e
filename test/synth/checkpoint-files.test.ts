/** One folder's files from given values: seeds, bounds, NaN files, and the counts the extractor sees. */
import { extractCheckpointMetrics } from '../../dataset/checkpoint-metrics.js';
import { type PyDict, readPickle } from '../../formats/index.js';
import { checkpointFiles } from '../../synth/checkpoint-files.js';
import type { CellValues } from '../../synth/model.js';
import { rngFromKey } from '../../synth/prng.js';

const values: CellValues = {
  test_acc: 85.254, test_loss: 0.5572692216300964, train_acc: 99.9989, train_loss: 0.001281573316499591,
  hessian_e: 2.698152916658015, hessian_t: 5.119334153347566, mode_connectivity: -4.25, mode_connectivity_peak: -6.5,
  CKA: 0.6924266219139099, L2: 40,
};

const extract = (files: Map<string, Uint8Array>) => extractCheckpointMetrics(files, 'folder');
const accuracies = (bytes: Uint8Array) => [...(readPickle(bytes, 'x') as Map<number, PyDict>).values()].map((run) => run.get('accuracy') as number);

test('per-seed accuracies stay within 0..100 even when rounding to whole images would push one above', () => {
  // 99.9989 next to a step of 0.002: the others round to 100 or 99.998, and whenever the fitted seed is
  // one that rounded to 100 it would have to go above 100 (about half of these streams).
  for (let i = 0; i < 20; i++) {
    const made = checkpointFiles({ values, width: 45, data: '10', seeds: 5, exact: true }, rngFromKey(`bounds ${i}`));
    const train = accuracies(made.files.get('loss_acc.pkl')!);
    expect(train.every((a) => a <= 100 && a >= 99.99)).toBe(true);
    expect(extract(made.files).metrics.train_acc).toBe(made.achieved.train_acc);
    expect(Math.abs(made.achieved.train_acc! - 99.9989)).toBeLessThanOrEqual(1e-13);
  }
});

test('the seed count is honoured by every file, and CKA is averaged over n (n - 1) pairs', () => {
  for (const seeds of [2, 3, 7]) {
    const made = checkpointFiles({ values, width: 8, data: '05', seeds, exact: true }, rngFromKey(`n${seeds}`));
    const { metrics, seeds: found, notes } = extract(made.files);
    expect([found, notes]).toEqual([seeds, []]);
    const cka = readPickle(made.files.get('CKA_mixup_alpha_16.0.pkl')!, 'x') as PyDict;
    const rs = cka.get('representation_similarity') as Map<number, PyDict>;
    expect([...rs.values()].reduce((n, row) => n + row.size, 0)).toBe(seeds * seeds);
    expect(metrics.CKA).toBe(values.CKA);
    expect(metrics.test_acc).toBe(values.test_acc);
    expect(made.inexact).toEqual([]);
  }
});

test('a metric that is NaN: its file is left out when all of its metrics are, else its values are NaN', () => {
  const made = checkpointFiles({ values: { ...values, CKA: NaN, test_acc: NaN, hessian_e: NaN, hessian_t: NaN }, width: 8, data: '10', seeds: 5, exact: true }, rngFromKey('nan'));
  expect([...made.files.keys()]).toEqual(['loss_acc_test.pkl', 'loss_acc.pkl', 'curve_test.npz', 'model_dist.pkl']);
  const { metrics } = extract(made.files);
  expect(metrics.test_acc).toBeNaN();
  expect(metrics.test_loss).toBe(values.test_loss);
  expect(metrics.CKA).toBeNaN();
  expect(metrics.hessian_e).toBeNaN();
  expect(made.inexact).toEqual([]);
});

test('model mode: accuracies are whole images and not fitted; the rest is', () => {
  const made = checkpointFiles({ values, width: 8, data: '02', seeds: 5, exact: false }, rngFromKey('model'));
  expect(made.achieved.test_acc).toBeUndefined();
  for (const a of accuracies(made.files.get('loss_acc.pkl')!)) expect(Math.abs(a / 0.01 - Math.round(a / 0.01))).toBeLessThan(1e-6);
  expect(extract(made.files).metrics.test_loss).toBe(values.test_loss);
});
