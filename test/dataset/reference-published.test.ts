/**
 * Against ../shared/reference/published (skipped, saying so, when absent): from the published grid, the
 * dataframe must equal the published CSV and the dictionary the published dictionary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NpScalar, type PyDict, PyTuple, type PyValue, readNpyObject } from '../../formats/index.js';
import { buildDataframeRows, dataframeToCsv } from '../../dataset/dataframe.js';
import { DICTIONARY_METRICS, buildDictionary, dictionaryToJson } from '../../dataset/dictionary.js';
import { readPublishedGrid } from '../../dataset/published-grid.js';
import { OPERATIONS } from '../../dataset/rfi.js';
import { compareCsv } from './compare-csv.js';
import { REFERENCE, closeRel, describeIfShared } from '../helpers/shared.js';

const num = (v: PyValue): number => (v instanceof NpScalar ? Number(v.value) : (v as number));
const get = (d: PyValue, key: string): PyValue => (d as PyDict).get(key)!;

describeIfShared('published grid -> dataframe and dictionary', () => {
  const dir = join(REFERENCE, 'published');
  const gridFile = join(dir, 'metric_grid_13_13_10_public.npy');
  const grid = readPublishedGrid(readFileSync(gridFile), gridFile);

  test('grid axes and shape', () => {
    expect(grid.axes.bs).toEqual([16, 24, 32, 44, 64, 92, 128, 180, 256, 364, 512, 724, 1024]);
    expect(grid.axes.width).toEqual([2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128]);
    expect(grid.axes.data).toEqual(['10', '09', '08', '07', '06', '05', '04', '03', '02', '01']);
    expect(grid.metrics.test_acc).toHaveLength(1690);
    expect(grid.metrics.test_acc[0]).toBe(53.19);
    expect(grid.metrics.L2.every(Number.isNaN)).toBe(true); // not published
  });

  test('dataframe equals dataframe_normal_public.csv', () => {
    const csv = dataframeToCsv(buildDataframeRows(grid));
    const cmp = compareCsv(csv, readFileSync(join(dir, 'dataframe_normal_public.csv'), 'utf8'));
    console.log(`published dataframe: ${cmp.rows} rows, ${cmp.cells} cells, ${cmp.exactText} identical as text; numeric-only matches by column: ${JSON.stringify(cmp.textDiffByColumn)}`);
    expect(cmp.mismatches).toEqual([]);
    expect(cmp.rows).toBe(1690);
  });

  test('dictionary equals dict_13_13_10_normal_public.npy', () => {
    const file = join(dir, 'dict_13_13_10_normal_public.npy');
    const published = readNpyObject(readFileSync(file), file) as PyDict;
    const ours = buildDictionary(grid);
    expect([...ours.keys()]).toEqual([...published.keys()]);
    const bad: string[] = [];
    let compared = 0;
    let exact = 0;
    const check = (where: string, got: number, want: number) => {
      compared++;
      if (Object.is(got, want)) exact++;
      else if (!closeRel(got, want)) bad.push(`${where}: ${got} != ${want}`);
    };
    for (const [key, entry] of ours) {
      const p = published.get(key)!;
      if (Object.keys(entry).join() !== [...(p as PyDict).keys()].join()) bad.push(`${key}: keys ${Object.keys(entry).join()}`);
      for (const m of DICTIONARY_METRICS) check(`${key} ${m}`, entry.metrics_dict[m], num(get(get(p, 'metrics_dict'), m)));
      const pi = get(p, 'possible_improve');
      for (const op of OPERATIONS) {
        const theirs = get(pi, op);
        const all = get(theirs, 'all') as PyValue[];
        if (all.length !== entry.possible_improve[op].all.length) bad.push(`${key} ${op}: all has ${entry.possible_improve[op].all.length}, published ${all.length}`);
        entry.possible_improve[op].all.forEach((v, i) => check(`${key} ${op} all[${i}]`, v, num(all[i])));
        check(`${key} ${op} max`, entry.possible_improve[op].max, num(get(theirs, 'max')));
        check(`${key} ${op} improvement`, entry.possible_improve[op].improvement, num(get(theirs, 'improvement')));
        check(`${key} summary ${op}`, entry.possible_improve.summary_improvement[op], num(get(get(pi, 'summary_improvement'), op)));
        if (entry.possible_improve.operations[op] !== num(get(get(pi, 'operations'), op))) bad.push(`${key} operations ${op}`);
      }
      const label = get(p, 'label') as PyTuple;
      if (entry.label === null || entry.label[0] !== label.items[0]) bad.push(`${key} label: ${JSON.stringify(entry.label)} != ${String(label.items[0])}`);
      else check(`${key} label`, entry.label[1], num(label.items[1]));
      for (const field of ['architecture', 'dataset', 'method', 'width', 'noise', 'data_amount'] as const) {
        if (entry[field] !== num(get(p, field)) && entry[field] !== get(p, field)) bad.push(`${key} ${field}: ${entry[field]} != ${String(get(p, field))}`);
      }
      if (entry.temperature.bs !== num(get(get(p, 'temperature'), 'bs'))) bad.push(`${key} temperature`);
    }
    console.log(`published dictionary: ${compared} numbers compared, ${exact} bit-identical`);
    expect(bad).toEqual([]);
    expect(compared).toBeGreaterThan(1690 * 10);
  });

  test('dictionary.json reads back to the same numbers', () => {
    const ours = buildDictionary(grid);
    const back = JSON.parse(dictionaryToJson(ours));
    const bad: string[] = [];
    let compared = 0;
    for (const [key, entry] of ours) {
      for (const m of DICTIONARY_METRICS) {
        if (!Object.is(back[key].metrics_dict[m], entry.metrics_dict[m])) bad.push(`${key} ${m}`);
        compared++;
      }
      if (JSON.stringify(back[key].label) !== JSON.stringify(entry.label)) bad.push(`${key} label`);
    }
    expect(bad).toEqual([]);
    expect(compared).toBe(16900);
  });
});
