import { parse } from 'csv-parse/sync';
import { DATAFRAME_COLUMNS, buildDataframeRows, dataAmount, dataframeToCsv, paraAmount } from '../../dataset/dataframe.js';
import { tinyGrid } from './fixtures.js';

describe('dataframe', () => {
  test("SPEC's 27 columns in order", () => {
    expect(DATAFRAME_COLUMNS.join(',')).toBe(
      'data_amount,para_amount,log_data_amount,log_para_amount,log_bs,width,data,bs,test_acc,train_acc,generalization_gap,test_loss,train_loss,CKA,hessian_e,hessian_t,mode_connectivity,mode_connectivity_peak,test_error,train_error,rfi_width,rfi_data,rfi_inc_temp,rfi_dec_temp,bs_failure,width_vs_batch,data_vs_batch',
    );
  });

  test('data_amount and para_amount reproduce the published helper tables', () => {
    // published/helper/data_percent_to_number_data.npy and width_to_parameters_count.npy (read with Python)
    expect(['10', '09', '01'].map(dataAmount)).toEqual([50000, 45000, 5000]);
    const helper: Array<[number, number]> = [[2, 11420], [3, 25297], [4, 44622], [6, 99616], [8, 176402], [11, 332441], [16, 701466],
      [23, 1446917], [32, 2797610], [45, 5527675], [64, 11173962], [91, 22580841], [128, 44662922]];
    for (const [w, p] of helper) expect(paraAmount(w)).toBe(p);
  });

  test('rows ordered by width, then bs, then data', () => {
    const rows = buildDataframeRows(tinyGrid());
    expect(rows.map((r) => [r.numbers.width, r.numbers.bs, r.numbers.data])).toEqual([
      [2, 16, 10], [2, 16, 5], [2, 32, 10], [2, 32, 5],
      [4, 16, 10], [4, 16, 5], [4, 32, 10], [4, 32, 5],
    ]);
  });

  test('values of a row (hand-computed)', () => {
    const [first, second] = buildDataframeRows(tinyGrid());
    expect(first.numbers).toMatchObject({
      data_amount: 50000, para_amount: 11420, test_acc: 50, train_acc: 51, test_error: 50, train_error: 49,
      rfi_width: 10, rfi_data: 0, rfi_inc_temp: 0, rfi_dec_temp: 5,
    });
    expect(first.labels).toEqual({ bs_failure: 'large', width_vs_batch: 'width', data_vs_batch: 'batch' });
    // (bs 16, w 2, "05") = 40: its inc-width neighbour is NaN (ignored), inc-data reaches 50.
    expect(second.numbers).toMatchObject({ rfi_width: 0, rfi_data: 10, rfi_inc_temp: 0, rfi_dec_temp: 5 });
    expect(second.labels).toEqual({ bs_failure: 'large', width_vs_batch: 'batch', data_vs_batch: 'data' });
  });

  test('CSV text: Python floats, integers as integers, NaN and null labels as empty cells', () => {
    const csv = dataframeToCsv(buildDataframeRows(tinyGrid()));
    const lines = csv.split('\n');
    expect(lines).toHaveLength(10); // header, 8 rows, and the final newline
    expect(lines[9]).toBe('');
    expect(lines[0]).toBe(DATAFRAME_COLUMNS.join(','));
    const empty8 = new Array(8).fill('');
    expect(lines[1]).toBe(['50000', '11420', '10.819778284410283', '9.343121483210002', '2.772588722239781', '2', '10', '16',
      '50.0', '51.0', ...empty8.slice(0, 7), '-0.0', '50.0', '49.0', '10.0', '0.0', '0.0', '5.0', 'large', 'width', 'batch'].join(','));
    // (bs 16, w 4, "05"): test_acc NaN, so its errors, room for improvement and labels are empty.
    // logs: Python's math.log(25000), math.log(44622)
    expect(lines[6]).toBe(['25000', '44622', '10.126631103850338', '10.705982289931356', '2.772588722239781', '4', '5', '16',
      ...new Array(19).fill('')].join(','));
    const parsed: string[][] = parse(csv);
    expect(parsed.every((r) => r.length === 27)).toBe(true);
  });
});
