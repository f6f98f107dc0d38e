/** Whole trees: layout, parseability, plausibility, determinism, file formats, reruns, errors. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LAYOUT, NOISY_LAYOUT } from '../../config/defaults.js';
import { parseLayout } from '../../config/layout.js';
import { METRIC_FILES } from '../../dataset/metrics.js';
import { readPickle, readZipDirectory } from '../../formats/index.js';
import { CURVE_MEMBERS } from '../../synth/curve.js';
import { SMALL_AXES, SynthError, synthesize } from '../../synth/index.js';
import { extractFolder, readTree, tempDir } from './support.js';

const basicLayout = parseLayout(DEFAULT_LAYOUT, 'test');
const smallFolders = SMALL_AXES.data.flatMap((data) => SMALL_AXES.bs.flatMap((bs) => SMALL_AXES.width.map((width) => basicLayout.format({ bs, width, data }))));

describe('small axes, built-in model', () => {
  let root: string;
  let tree: Map<string, Buffer>;
  let progress: Array<[number, number]>;
  let result: Awaited<ReturnType<typeof synthesize>>;

  beforeAll(async () => {
    root = tempDir();
    progress = [];
    result = await synthesize({ out: root, collection: 'basic', axes: 'small', seed: 7, onProgress: (d, t) => progress.push([d, t]) });
    tree = readTree(root);
  });

  test('18 folders at the layout paths, six files each, nothing else', () => {
    expect(result).toMatchObject({ folders: 18, files: 108 });
    expect(result.bytes).toBe([...tree.values()].reduce((a, b) => a + b.length, 0));
    expect(result.fit).toBeUndefined();
    const expected = smallFolders.flatMap((dir) => METRIC_FILES.map((f) => `${dir}/${f}`)).sort();
    expect([...tree.keys()]).toEqual(expected);
  });

  test('progress is reported once per folder, in order', () => {
    expect(progress).toEqual(Array.from({ length: 18 }, (_, i) => [i + 1, 18]));
  });

  test('every folder parses; the metrics are finite and plausible', () => {
    for (const dir of smallFolders) {
      const { metrics: m, seeds, notes } = extractFolder(join(root, dir));
      expect(notes).toEqual([]);
      expect(seeds).toBe(5);
      for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
      expect(m.test_acc).toBeGreaterThan(30);
      expect(m.test_acc).toBeLessThan(95);
      expect(m.train_acc).toBeGreaterThan(m.test_acc);
      expect(m.train_acc).toBeLessThanOrEqual(100);
      expect(m.test_loss).toBeGreaterThan(0);
      expect(m.train_loss).toBeGreaterThan(0);
      expect(m.train_loss).toBeLessThan(m.test_loss);
      expect(m.CKA).toBeGreaterThan(0);
      expect(m.CKA).toBeLessThan(1);
      expect(m.hessian_t).toBeGreaterThan(m.hessian_e);
      expect(m.mode_connectivity_peak).toBeLessThanOrEqual(0);
      expect(m.L2).toBeGreaterThan(0);
    }
  });

  test('per-seed accuracies are whole numbers of images, as in real files', () => {
    const dir = basicLayout.format({ bs: 64, width: 8, data: '05' });
    const test = readPickle(tree.get(`${dir}/loss_acc_test.pkl`)!, 'x') as Map<number, Map<string, number>>;
    for (const run of test.values()) expect(Math.abs(run.get('accuracy')! * 100 - Math.round(run.get('accuracy')! * 100))).toBeLessThan(1e-6);
    const train = readPickle(tree.get(`${dir}/loss_acc.pkl`)!, 'x') as Map<number, Map<string, number>>;
    // data "05": 25,000 images, a step of 0.004 %.
    for (const run of train.values()) expect(Math.abs(run.get('accuracy')! / 0.004 - Math.round(run.get('accuracy')! / 0.004))).toBeLessThan(1e-6);
  });

  test('the same seed gives a byte-identical tree; a folder does not depend on the others', async () => {
    const again = tempDir();
    await synthesize({ out: again, collection: 'basic', axes: 'small', seed: 7 });
    expect(readTree(again)).toEqual(tree);
    const one = tempDir();
    await synthesize({ out: one, collection: 'basic', axes: { bs: [64], width: [8], data: ['05'] }, seed: 7 });
    const dir = basicLayout.format({ bs: 64, width: 8, data: '05' });
    expect(readTree(one)).toEqual(new Map([...tree].filter(([p]) => p.startsWith(`${dir}/`))));
  });

  test('another seed gives other values', async () => {
    const other = tempDir();
    await synthesize({ out: other, collection: 'basic', axes: 'small', seed: 8 });
    const otherTree = readTree(other);
    expect([...otherTree.keys()]).toEqual([...tree.keys()]);
    let differing = 0;
    for (const [p, b] of otherTree) if (!b.equals(tree.get(p)!)) differing++;
    expect(differing).toBe(108);
    const a = extractFolder(join(root, smallFolders[0])).metrics;
    const b = extractFolder(join(other, smallFolders[0])).metrics;
    expect(a.test_acc).not.toBe(b.test_acc);
    expect(a.hessian_e).not.toBe(b.hessian_e);
  });
});

describe('the model', () => {
  test('accuracy grows with width and data; the noisy collection is worse; the Hessian shrinks with width', async () => {
    const axes = { bs: [32, 128, 512], width: [2, 8, 32, 128], data: ['10', '05', '02'] };
    const basic = tempDir();
    const noisy = tempDir();
    await synthesize({ out: basic, collection: 'basic', axes });
    await synthesize({ out: noisy, collection: 'noisy', axes });
    const noisyLayout = parseLayout(NOISY_LAYOUT, 'test');
    const at = (root: string, layout = basicLayout) => (bs: number, width: number, data: string) => extractFolder(join(root, layout.format({ bs, width, data }))).metrics;
    const b = at(basic);
    const n = at(noisy, noisyLayout);
    for (const bs of axes.bs) {
      for (const data of axes.data) {
        expect(b(bs, 128, data).test_acc).toBeGreaterThan(b(bs, 2, data).test_acc);
        expect(b(bs, 128, data).hessian_e).toBeLessThan(b(bs, 2, data).hessian_e);
        for (const width of axes.width) expect(n(bs, width, data).test_acc).toBeLessThan(b(bs, width, data).test_acc);
      }
      for (const width of axes.width) expect(b(bs, width, '10').test_acc).toBeGreaterThan(b(bs, width, '02').test_acc);
    }
    // An optimum batch size: at full data, 128 beats both 32 and 512 for every width.
    for (const width of axes.width) {
      expect(b(128, width, '10').test_acc).toBeGreaterThan(b(32, width, '10').test_acc);
      expect(b(128, width, '10').test_acc).toBeGreaterThan(b(512, width, '10').test_acc);
    }
  });
});

describe('file formats', () => {
  let dir: string;
  beforeAll(async () => {
    const root = tempDir();
    await synthesize({ out: root, collection: 'basic', axes: { bs: [16], width: [4], data: ['10'] } });
    dir = join(root, basicLayout.format({ bs: 16, width: 4, data: '10' }));
  });
  const read = (name: string) => readTree(dir).get(name)!;
  const latin1 = (b: Buffer) => b.toString('latin1');

  test('pickles are protocol 3; numpy scalars use numpy.core.multiarray scalar, dtypes f8 (trace) and f4 (CKA)', () => {
    for (const f of ['loss_acc_test.pkl', 'loss_acc.pkl', 'hessian.pkl', 'CKA_mixup_alpha_16.0.pkl', 'model_dist.pkl']) {
      expect([...read(f).subarray(0, 2)]).toEqual([0x80, 3]);
      expect(read(f).at(-1)).toBe(0x2e); // STOP
    }
    const h = latin1(read('hessian.pkl'));
    expect(h).toContain('cnumpy.core.multiarray\nscalar\n');
    expect(h).toContain('cnumpy\ndtype\n');
    expect(h).toContain('X\x02\x00\x00\x00f8');
    const c = latin1(read('CKA_mixup_alpha_16.0.pkl'));
    expect(c).toContain('cnumpy.core.multiarray\nscalar\n');
    expect(c).toContain('X\x02\x00\x00\x00f4');
    expect(c).not.toContain('f8');
    // Plain Python floats (BINFLOAT 'G') in the loss files, no numpy globals.
    const l = latin1(read('loss_acc_test.pkl'));
    expect(l).not.toContain('numpy');
    expect(l).toContain('X\x08\x00\x00\x00accuracy');
    expect((l.match(/G/g) ?? []).length).toBeGreaterThanOrEqual(15);
  });

  test('curve_test.npz is a stored zip of the 34 arrays in the real order', () => {
    const entries = readZipDirectory(read('curve_test.npz'), 'curve_test.npz');
    expect(entries.map((e) => e.name)).toEqual(CURVE_MEMBERS.map((n) => `${n}.npy`));
    for (const e of entries) expect(e.method).toBe(0);
  });

  test('numpy 2 spelling and protocols 2, 4, 5 give the same metrics', async () => {
    const base = extractFolder(dir).metrics;
    for (const pickle of [{ numpyModule: 'numpy._core' as const }, { protocol: 2 as const }, { protocol: 4 as const }, { protocol: 5 as const }]) {
      const root = tempDir();
      await synthesize({ out: root, collection: 'basic', axes: { bs: [16], width: [4], data: ['10'] }, pickle });
      const d = join(root, basicLayout.format({ bs: 16, width: 4, data: '10' }));
      if (pickle.numpyModule) expect(latin1(readTree(d).get('hessian.pkl')!)).toContain('numpy._core.multiarray\nscalar');
      if (pickle.protocol) expect(readTree(d).get('hessian.pkl')![1]).toBe(pickle.protocol);
      expect(extractFolder(d).metrics).toEqual(base);
    }
  });
});

const python = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!python) process.stderr.write('skipping the Python check: /usr/bin/python3 with numpy absent\n');

(python ? test : test.skip)('files load in Python + numpy, and numpy computes the same metrics (optional)', async () => {
  const root = tempDir();
  await synthesize({ out: root, collection: 'noisy', axes: { bs: [92], width: [11], data: ['03'] }, seed: 3 });
  const dir = join(root, parseLayout(NOISY_LAYOUT, 't').format({ bs: 92, width: 11, data: '03' }));
  const script = `
import sys, json, pickle, numpy as np
d = sys.argv[1]
L = lambda f: pickle.load(open(d + '/' + f, 'rb'))
te, tr, h = L('loss_acc_test.pkl'), L('loss_acc.pkl'), L('hessian.pkl')
c, md = L('CKA_mixup_alpha_16.0.pkl'), L('model_dist.pkl')
t = np.load(d + '/curve_test.npz')['tr_err']
mid = (t[0] + t[4]) / 2
rs = c['representation_similarity']
out = dict(
  test_acc=np.mean([te[s]['accuracy'] for s in te]), test_loss=np.mean([te[s]['loss'] for s in te]),
  train_acc=np.mean([tr[s]['accuracy'] for s in tr]), train_loss=np.mean([tr[s]['loss'] for s in tr]),
  hessian_e=np.log(np.mean([h[s]['top_eigenvalue'][0] for s in h])), hessian_t=np.log(np.mean([h[s]['trace'] for s in h])),
  mode_connectivity=mid - t[np.argmax(np.abs(t - mid))], mode_connectivity_peak=-np.max(t[1:4]),
  CKA=np.mean([rs[a][b][-1] for a in rs for b in rs[a] if a != b]),
  L2=np.mean([md['model_distance'][a][b]['dist'] for a in md['model_distance'] for b in md['model_distance'][a] if a != b]))
types = [type(h[0]['trace']).__name__, type(rs[0][1][-1]).__name__, type(te[0]['accuracy']).__name__]
print(json.dumps({'metrics': {k: float(v).hex() for k, v in out.items()}, 'types': types}))
`;
  const res = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' })) as { metrics: Record<string, string>; types: string[] };
  expect(res.types).toEqual(['float64', 'float32', 'float']);
  const ours = extractFolder(dir).metrics;
  for (const [k, v] of Object.entries(res.metrics)) expect([k, hexToDouble(v)]).toEqual([k, ours[k as keyof typeof ours]]);
});

/** Python's float.hex() back to a double ('0x1.8p+1' = 3). */
function hexToDouble(h: string): number {
  const m = /^(-?)0x([01])\.([0-9a-f]*)p([+-]\d+)$/.exec(h);
  if (!m) throw new Error(`not a float hex: ${h}`);
  const mant = Number.parseInt(m[2] + (m[3] || '0'), 16) / 16 ** (m[3] || '0').length;
  return (m[1] ? -1 : 1) * mant * 2 ** Number(m[4]);
}

describe('reruns and errors', () => {
  test('a rerun over an existing tree replaces its files and leaves no temporary file', async () => {
    const root = tempDir();
    await synthesize({ out: root, collection: 'basic', axes: 'small', seed: 1 });
    await synthesize({ out: root, collection: 'basic', axes: 'small', seed: 2 });
    const fresh = tempDir();
    await synthesize({ out: fresh, collection: 'basic', axes: 'small', seed: 2 });
    expect(readTree(root)).toEqual(readTree(fresh));
  });

  test('axes that are not usable are refused with the fix', async () => {
    const out = tempDir();
    await expect(synthesize({ out, collection: 'basic', axes: { bs: [0], width: [2], data: ['10'] } })).rejects.toThrow(/bs values must be positive integers[^]*fix:/);
    await expect(synthesize({ out, collection: 'basic', axes: { bs: [16], width: [2, 2], data: ['10'] } })).rejects.toThrow(SynthError);
    await expect(synthesize({ out, collection: 'basic', axes: { bs: [16], width: [2], data: ['ten'] } })).rejects.toThrow(/data values must be[^]*fix: give data as two-digit strings/);
    await expect(synthesize({ out, collection: 'basic', axes: 'small', seeds: 0 })).rejects.toThrow(/seeds must be a positive integer/);
    expect(readTree(out).size).toBe(0);
  });

  test('an output path blocked by a file names the path', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'different_knobs_subset_10'), { recursive: true });
    writeFileSync(join(root, 'different_knobs_subset_10', 'bs_16'), 'not a folder');
    const err = await synthesize({ out: root, collection: 'basic', axes: 'small' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthError);
    expect((err as SynthError).file).toContain(join(root, 'different_knobs_subset_10', 'bs_16'));
    expect((err as SynthError).message).toMatch(/fix: a file stands where a folder is needed/);
  });

  test('an abort stops between folders; what was written is whole', async () => {
    const root = tempDir();
    const ac = new AbortController();
    let written = 0;
    const run = synthesize({ out: root, collection: 'basic', axes: 'full', signal: ac.signal, onProgress: (d) => (written = d) === 40 && ac.abort() });
    await expect(run).rejects.toThrow(/abort/i);
    expect(written).toBeGreaterThanOrEqual(40);
    expect(written).toBeLessThan(1690);
    const tree = readTree(root);
    expect(tree.size).toBe(written * 6);
    expect([...tree.keys()].some((p) => p.endsWith('.tmp'))).toBe(false);
  });

  test('a missing grid file names the file', async () => {
    const err = await synthesize({ out: tempDir(), collection: 'basic', grid: '/nonexistent/grid.npy' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynthError);
    expect((err as SynthError).message).toMatch(/^\/nonexistent\/grid.npy: no such file\n {2}fix: /);
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
