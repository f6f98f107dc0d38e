/**
 * The readers and writers against the real files in ../shared/reference (skipped, saying so, when absent).
 * Expected values were read with /usr/bin/python3 (numpy 1.24) from the files themselves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, readNpyObject, writeNpy } from '../../formats/npy.js';
import { readNpz } from '../../formats/npz.js';
import { readPickle } from '../../formats/pickle/reader.js';
import { writePickle } from '../../formats/pickle/writer.js';
import { NpArray, NpScalar, PyTuple, type PyDict, type PyValue } from '../../formats/values.js';
import { extractZipMember, readZipDirectory } from '../../formats/zip.js';
import { describeIfShared, PUBLISHED, RAW_SAMPLE, SAMPLE_FOLDER } from '../helpers/shared.js';
import { formatErrorOf } from './support.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

const read = (name: string): Uint8Array => readFileSync(join(SAMPLE_FOLDER, name));
const dict = (v: PyValue | undefined): PyDict => {
  expect(v).toBeInstanceOf(Map);
  return v as PyDict;
};

describeIfShared('raw-sample: every file', () => {
  test('all 1232 files under raw-sample parse (1022 pickles, 210 npz with all 34 arrays)', () => {
    const files = filesUnder(RAW_SAMPLE);
    expect(files).toHaveLength(1232);
    let pickles = 0;
    let npz = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      if (f.endsWith('.pkl')) {
        expect(readPickle(bytes, f)).toBeInstanceOf(Map);
        pickles++;
      } else if (f.endsWith('.npz')) {
        expect(readNpz(bytes, f).size).toBe(34);
        npz++;
      }
    }
    expect([pickles, npz]).toEqual([1022, 210]);
  });
});

describeIfShared('raw-sample: bs_364/ResNet18_w45 values equal what Python reads', () => {
  test('loss_acc.pkl and loss_acc_test.pkl', () => {
    const la = dict(readPickle(read('loss_acc.pkl'), 'loss_acc.pkl'));
    expect([...la.keys()]).toEqual([0, 1, 2, 3, 4]);
    expect(la.get(2)).toEqual(new Map([['nll', 0.0010110826217010617], ['loss', 0.0010110826217010617], ['accuracy', 100]]));
    const lt = dict(readPickle(read('loss_acc_test.pkl'), 'loss_acc_test.pkl'));
    expect(dict(lt.get(0)).get('accuracy')).toBe(86.53);
    expect(dict(lt.get(4)).get('loss')).toBe(0.4819161682128906);
  });

  test('hessian.pkl: a Python list and a numpy float64 scalar', () => {
    const h = dict(readPickle(read('hessian.pkl'), 'hessian.pkl'));
    expect(dict(h.get(0)).get('top_eigenvalue')).toEqual([2.861771821975708]);
    const trace = dict(h.get(3)).get('trace') as NpScalar;
    expect(trace).toBeInstanceOf(NpScalar);
    expect(trace.dtype.str).toBe('<f8');
    expect(trace.value).toBe(58.54216521126883);
  });

  test('CKA_mixup_alpha_16.0.pkl: float32 scalars with their exact values', () => {
    const c = dict(readPickle(read('CKA_mixup_alpha_16.0.pkl'), 'cka.pkl'));
    expect([...c.keys()]).toEqual(['representation_similarity', 'classification_similarity', 'test_accuracy']);
    const rs = dict(c.get('representation_similarity'));
    expect(rs.size).toBe(5);
    const pair = dict(rs.get(0)).get(1) as NpScalar[];
    expect(pair.map((s) => s.dtype.str)).toEqual(['<f4', '<f4']);
    expect(pair.map((s) => s.value)).toEqual([0.8142556548118591, 0.710765540599823]);
    const last = (dict(rs.get(3)).get(4) as NpScalar[]).at(-1)!;
    expect(last.value).toBe(0.7130095958709717); // bytes cc87363f
    expect(Math.fround(last.value as number)).toBe(last.value);
    expect(c.get('classification_similarity')).toEqual(new Map([0, 1, 2, 3, 4].map((k) => [k, new Map()])));
    expect(c.get('test_accuracy')).toEqual(new Map());
  });

  test('model_dist.pkl', () => {
    const m = dict(readPickle(read('model_dist.pkl'), 'model_dist.pkl'));
    expect(dict(dict(dict(m.get('model_distance')).get(1)).get(3)).get('dist')).toBe(44.07013702392578);
  });

  test('curve_test.npz: tr_err alone, and a 0-d array', () => {
    const only = readNpz(read('curve_test.npz'), 'curve_test.npz', { only: ['tr_err'] });
    expect(only.get('tr_err')).toEqual(new NpArray(only.get('tr_err')!.dtype, [5], Float64Array.of(0, 0, 0.028000000000005798, 0, 0)));
    const all = readNpz(read('curve_test.npz'), 'curve_test.npz');
    expect(Array.from(all.get('ts')!.data as Float64Array)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(all.get('tr_loss_min')!.shape).toEqual([]);
    expect((all.get('tr_loss_min')!.data as Float64Array)[0]).toBe(0.19545172990322113);
  });

  test.each(['hessian.pkl', 'CKA_mixup_alpha_16.0.pkl', 'curve_test.npz'])('every prefix of the real %s is a FormatError (empty or truncated)', (name) => {
    const bytes = read(name);
    const readAny = (b: Uint8Array): unknown => (name.endsWith('.npz') ? readNpz(b, name) : readPickle(b, name));
    for (let len = 0; len < bytes.length; len++) {
      expect(['empty', 'truncated']).toContain(formatErrorOf(() => readAny(bytes.subarray(0, len))).reason);
    }
  });
});

describeIfShared('the writers reproduce numpy/CPython output byte for byte', () => {
  test.each(['CKA_mixup_alpha_16.0.pkl', 'hessian.pkl', 'loss_acc_test.pkl'])('%s re-written with protocol 3', (name) => {
    // (loss_acc.pkl holds 100.0, which reads back as the number 100 and is written as an int: not identical.)
    const bytes = read(name);
    expect(Buffer.compare(writePickle(readPickle(bytes, name), { protocol: 3 }), bytes)).toBe(0);
  });

  test('every member of curve_test.npz re-written with writeNpy', () => {
    const zip = read('curve_test.npz');
    const entries = readZipDirectory(zip, 'curve_test.npz');
    expect(entries).toHaveLength(34);
    for (const e of entries) {
      const member = extractZipMember(zip, e, 'curve_test.npz', 1 << 20);
      expect(Buffer.compare(writeNpy(readNpy(member, e.name)), member)).toBe(0);
    }
  });

  test.each([
    'metric_grid_13_13_10_public.npy',
    'dict_13_13_10_normal_public.npy',
    'helper/data_percent_to_number_data.npy',
    'helper/width_to_parameters_count.npy',
  ])('published/%s re-written with writeNpy', (name) => {
    const bytes = readFileSync(join(PUBLISHED, name));
    expect(Buffer.compare(writeNpy(readNpy(bytes, name)), bytes)).toBe(0);
  });
});

describeIfShared('published files', () => {
  test('the grid: temp, width, data and 10 metrics of shape (13, 13, 10)', () => {
    const grid = dict(readNpyObject(readFileSync(join(PUBLISHED, 'metric_grid_13_13_10_public.npy')), 'grid.npy'));
    const metrics = ['test_acc', 'test_loss', 'train_acc', 'train_loss', 'hessian_e', 'hessian_t', 'mode_connectivity', 'mode_connectivity_peak', 'CKA', 'generalization_gap'];
    expect([...grid.keys()]).toEqual(['temp', 'width', 'data', ...metrics]);
    expect(grid.get('temp')).toEqual([16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024]);
    expect(grid.get('data')).toEqual(['10', '09', '08', '07', '06', '05', '04', '03', '02', '01']);
    for (const m of metrics) {
      const a = grid.get(m) as NpArray;
      expect(a).toBeInstanceOf(NpArray);
      expect([a.dtype.str, ...a.shape]).toEqual(['<f8', 13, 13, 10]);
    }
    const at = (m: string, i: number, j: number, k: number): number => ((grid.get(m) as NpArray).data as Float64Array)[(i * 13 + j) * 10 + k];
    expect(at('test_acc', 0, 0, 0)).toBe(53.19);
    expect(at('test_acc', 12, 12, 9)).toBe(54.54);
    expect(at('CKA', 3, 4, 5)).toBe(0.39926522970199585);
  });

  test('the dictionary: 1690 configurations with numpy scalars and label tuples', () => {
    const d = dict(readNpyObject(readFileSync(join(PUBLISHED, 'dict_13_13_10_normal_public.npy')), 'dict.npy'));
    expect(d.size).toBe(1690);
    const e = dict(d.get('w_2_t_16_d_10'));
    expect([...e.keys()]).toEqual(['architecture', 'dataset', 'method', 'temperature', 'width', 'noise', 'data_amount', 'initialization', 'epochs', 'metrics', 'metrics_dict', 'bs_range', 'width_range', 'data_amount_range', 'noise_range', 'possible_improve', 'label']);
    const acc = dict(e.get('metrics_dict')).get('test_acc') as NpScalar;
    expect([acc.dtype.str, acc.value]).toEqual(['<f8', 53.19]);
    expect(e.get('label')).toBeInstanceOf(PyTuple);
    const label = (e.get('label') as PyTuple).items;
    expect(label[0]).toBe('inc-width');
    expect((label[1] as NpScalar).value ?? label[1]).toBe(25.414);
  });

  test('the helper tables', () => {
    const data = readNpyObject(readFileSync(join(PUBLISHED, 'helper/data_percent_to_number_data.npy')), 'data.npy');
    expect(data).toEqual(new Map(Array.from({ length: 10 }, (_, i) => [10 - i, 5000 * (10 - i)])));
    const width = dict(readNpyObject(readFileSync(join(PUBLISHED, 'helper/width_to_parameters_count.npy')), 'width.npy'));
    for (const [w, count] of width) expect(count).toBe(2724 * (w as number) ** 2 + 257 * (w as number) + 10);
  });
});
