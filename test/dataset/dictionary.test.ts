import { DICTIONARY_METRICS, bestOperation, buildDictionary, dictionaryToJson } from '../../dataset/dictionary.js';
import { cellIndex, emptyGrid } from '../../dataset/grid.js';
import { OPERATIONS, rfiCell } from '../../dataset/rfi.js';
import { prng } from '../helpers/prng.js';
import { tinyGrid } from './fixtures.js';

/** Key order of an entry of the published dict_13_13_10_normal_public.npy (read with Python). */
const PUBLISHED_ENTRY_KEYS = ['architecture', 'dataset', 'method', 'temperature', 'width', 'noise', 'data_amount', 'initialization',
  'epochs', 'metrics', 'metrics_dict', 'bs_range', 'width_range', 'data_amount_range', 'noise_range', 'possible_improve', 'label'];

describe('bestOperation (the label)', () => {
  const imp = (...v: number[]) => Object.fromEntries(OPERATIONS.map((op, i) => [op, v[i]])) as Record<(typeof OPERATIONS)[number], number>;
  test('largest improvement wins', () => expect(bestOperation(imp(0, 1, 7, 0, 3, 2))).toEqual(['inc-width', 7]));
  test('ties go to the first in SPEC order', () => expect(bestOperation(imp(0, 4, 4, 0, 4, 0))).toEqual(['dec-temp', 4]));
  test('all zero: inc-temp', () => expect(bestOperation(imp(0, 0, 0, 0, 0, 0))).toEqual(['inc-temp', 0]));
  test('NaN ignored', () => expect(bestOperation(imp(NaN, 1, NaN, 2, NaN, 0))).toEqual(['dec-width', 2]));
  test('all NaN: null', () => expect(bestOperation(imp(NaN, NaN, NaN, NaN, NaN, NaN))).toBeNull());
});

describe('buildDictionary', () => {
  const dict = buildDictionary(tinyGrid());

  test('keys w_{width}_t_{bs}_d_{data}, ordered by width, bs, data', () => {
    expect([...dict.keys()]).toEqual([
      'w_2_t_16_d_10', 'w_2_t_16_d_05', 'w_2_t_32_d_10', 'w_2_t_32_d_05',
      'w_4_t_16_d_10', 'w_4_t_16_d_05', 'w_4_t_32_d_10', 'w_4_t_32_d_05',
    ]);
  });

  test('entry structure and key order as published', () => {
    const e = dict.get('w_2_t_16_d_10')!;
    expect(Object.keys(e)).toEqual(PUBLISHED_ENTRY_KEYS);
    expect(Object.keys(e.metrics_dict)).toEqual([...DICTIONARY_METRICS]);
    expect(Object.keys(e.possible_improve)).toEqual([...OPERATIONS, 'summary_improvement', 'operations']);
    expect(e.possible_improve.operations).toEqual({ 'inc-temp': 0, 'dec-temp': 1, 'inc-width': 2, 'dec-width': 3, 'inc-data': 4, 'dec-data': 5 });
    expect(e).toMatchObject({ architecture: 'ResNet18', dataset: 'cifar10', method: 'normal', temperature: { bs: 16 }, width: 2, noise: 0,
      data_amount: 10, bs_range: [16, 32], width_range: [2, 4], data_amount_range: ['10', '05'], noise_range: null });
    expect(e.possible_improve['dec-temp']).toEqual({ all: [50, 55], max: 55, improvement: 5 });
    expect(e.possible_improve['inc-width']).toEqual({ all: [50, 60], max: 60, improvement: 10 });
    expect(e.possible_improve.summary_improvement).toEqual({ 'inc-temp': 0, 'dec-temp': 5, 'inc-width': 10, 'dec-width': 0, 'inc-data': 0, 'dec-data': 0 });
    expect(e.label).toEqual(['inc-width', 10]);
    // (bs 16, w 2, "05") = 40: its only inc-width neighbour is NaN (ignored, listed in `all`)
    expect(dict.get('w_2_t_16_d_05')!.possible_improve['inc-width']).toEqual({ all: [40, NaN], max: 40, improvement: 0 });
    expect(dict.get('w_2_t_32_d_05')!.possible_improve.summary_improvement).toEqual({ 'inc-temp': 0, 'dec-temp': 0, 'inc-width': 20, 'dec-width': 0, 'inc-data': 10, 'dec-data': 0 });
  });

  test('options name the collection', () => {
    const noisy = buildDictionary(tinyGrid(), { method: 'lr_decay', noise: 10, noiseRange: [0, 10] });
    expect(noisy.get('w_4_t_32_d_05')).toMatchObject({ method: 'lr_decay', noise: 10, noise_range: [0, 10] });
  });

  test('a NaN configuration has NaN improvements and a null label; all-zero picks inc-temp', () => {
    expect(dict.get('w_4_t_16_d_05')!.label).toBeNull();
    expect(dict.get('w_4_t_32_d_10')!.label).toEqual(['inc-temp', 0]);
  });
});

describe('dictionaryToJson', () => {
  const dict = buildDictionary(tinyGrid());
  const text = dictionaryToJson(dict);

  test('is JSON; NaN becomes null; same keys and order', () => {
    const back = JSON.parse(text);
    expect(Object.keys(back)).toEqual([...dict.keys()]);
    expect(Object.keys(back.w_2_t_16_d_10)).toEqual(PUBLISHED_ENTRY_KEYS);
    expect(back.w_4_t_16_d_05.metrics_dict.test_acc).toBeNull();
    expect(back.w_4_t_16_d_05.label).toBeNull();
    expect(back.w_2_t_16_d_05.possible_improve['inc-width'].all).toEqual([40, null]);
    expect(back.w_2_t_16_d_10.label).toEqual(['inc-width', 10]);
    expect(text).not.toMatch(/NaN|Infinity/);
  });

  test('floats spelled as Python does (-0.0, 50.0), integers as integers', () => {
    const line = text.split('\n').find((l) => l.startsWith('"w_2_t_16_d_10"'))!;
    expect(line).toContain('"mode_connectivity_peak": -0.0');
    expect(line).toContain('"test_acc": 50.0');
    expect(line).toContain('"temperature": {"bs": 16}');
    expect(line).toContain('"data_amount": 10,');
    expect(line).toContain('"bs_range": [16, 32]');
    expect(line).toContain('"label": ["inc-width", 10.0]');
    expect(Object.is(JSON.parse(text).w_2_t_16_d_10.metrics_dict.mode_connectivity_peak, -0)).toBe(true);
  });
});

describe('dictionaryToJson on a full-size grid of distinct values', () => {
  // 13 x 13 x 10 cells, ten metrics of distinct doubles (over 16,000 values, more than the writer's float
  // cache holds, so its slots collide), with -0, NaN and values one ulp apart mixed in: every float in
  // the text must read back to the double it stands for.
  const axes = { bs: [16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024], width: [2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128], data: ['10', '09', '08', '07', '06', '05', '04', '03', '02', '01'] };
  const g = emptyGrid(axes);
  const rand = prng(2024);
  for (const m of DICTIONARY_METRICS) {
    const values = g.metrics[m];
    for (let at = 0; at < values.length; at++) {
      const x = (rand() - 0.3) * 10 ** Math.floor(rand() * 12 - 6);
      values[at] = at % 97 === 0 ? NaN : at % 89 === 0 ? -0 : at % 2 === 1 ? values[at - 1] * (1 + Number.EPSILON) : x;
    }
  }
  const back = JSON.parse(dictionaryToJson(buildDictionary(g)));
  const same = (text: number | null, x: number) => (Number.isNaN(x) ? text === null : Object.is(text, x));

  test('metrics_dict and every `all` list hold the grid values exactly', () => {
    let checked = 0;
    const wrong: string[] = [];
    axes.bs.forEach((bs, i) => axes.width.forEach((width, j) => axes.data.forEach((data, k) => {
      const entry = back[`w_${width}_t_${bs}_d_${data}`];
      for (const m of DICTIONARY_METRICS) {
        checked++;
        if (!same(entry.metrics_dict[m], g.metrics[m][cellIndex(axes, i, j, k)])) wrong.push(`${bs}/${width}/${data} ${m}`);
      }
      for (const op of OPERATIONS) {
        const want = rfiCell(g.metrics.test_acc, axes, i, j, k, op).all;
        want.forEach((x, n) => {
          checked++;
          if (!same(entry.possible_improve[op].all[n], x)) wrong.push(`${bs}/${width}/${data} ${op}[${n}]`);
        });
      }
    })));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(16_900 + 1690 * 6);
  });
});
