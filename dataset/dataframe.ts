/**
 * The dataframe (SEMANTICS.md "Outputs"): one row per configuration, ordered by width, then bs, then data
 * (each in axis order), and its CSV text in the published column order, numbers spelled as Python/pandas
 * does.
 */
import { stringify } from 'csv-stringify/sync';
import { cellIndex, gridSize, type Grid } from './grid.js';
import { ln } from './ln.js';
import { LABEL_RULES, RFI_COLUMNS, computeLabels, type LabelGrids, type RfiColumn } from './labels.js';
import { formatPythonFloat } from './python-float.js';
import { computeRfi, type RfiGrids } from './rfi.js';

/** Columns written as integers. */
export const INT_COLUMNS = ['data_amount', 'para_amount', 'width', 'data', 'bs'] as const;

/** Every numeric column, in CSV order. */
export const NUMBER_COLUMNS = [
  'data_amount', 'para_amount', 'log_data_amount', 'log_para_amount', 'log_bs', 'width', 'data', 'bs',
  'test_acc', 'train_acc', 'generalization_gap', 'test_loss', 'train_loss', 'CKA', 'hessian_e', 'hessian_t',
  'mode_connectivity', 'mode_connectivity_peak', 'test_error', 'train_error',
  'rfi_width', 'rfi_data', 'rfi_inc_temp', 'rfi_dec_temp',
] as const;
export type NumberColumn = (typeof NUMBER_COLUMNS)[number];

/** SEMANTICS.md's 27 columns: the numbers, then one per label rule. */
export const DATAFRAME_COLUMNS: readonly string[] = [...NUMBER_COLUMNS, ...LABEL_RULES.map((r) => r.name)];

export interface DataframeRow {
  readonly numbers: Readonly<Record<NumberColumn, number>>;
  /** By label name (LABEL_RULES); null = empty cell (an operand is NaN). */
  readonly labels: Readonly<Record<string, string | null>>;
}

/** Samples in a data fraction: "09" is 45,000 of CIFAR-10's 50,000 training images. */
export function dataAmount(data: string): number {
  return 5000 * Number.parseInt(data, 10);
}

/** Parameter count of ResNet-18 at width w (reproduces the published helper table). */
export function paraAmount(width: number): number {
  return 2724 * width * width + 257 * width + 10;
}

/**
 * The dataframe's rows, in SEMANTICS.md's order (width, then bs, then data).
 * @param rfi the rfi stage's output (computed from the grid if not given)
 * @param labels the label stage's output (computed from `rfi` if not given)
 */
export function buildDataframeRows(grid: Grid, rfi: RfiGrids = computeRfi(grid.metrics.test_acc, grid.axes), labels: LabelGrids = computeLabels(rfi)): DataframeRow[] {
  const { axes } = grid;
  const rowAt = dataframeRowMaker(grid, rfi, labels);
  const rows: DataframeRow[] = new Array(gridSize(axes));
  let r = 0;
  for (let j = 0; j < axes.width.length; j++) {
    for (let i = 0; i < axes.bs.length; i++) {
      for (let k = 0; k < axes.data.length; k++) rows[r++] = rowAt(i, j, k);
    }
  }
  return rows;
}

/** The row number of cell (i, j, k) in the dataframe (rows by width, then bs, then data). */
export function dataframeRowOf(grid: Grid, i: number, j: number, k: number): number {
  const { axes } = grid;
  return (j * axes.bs.length + i) * axes.data.length + k;
}

/** A function giving the dataframe row of cell (i, j, k) (bs, width, data indices). */
export function dataframeRowMaker(grid: Grid, rfi: RfiGrids, labels: LabelGrids): (i: number, j: number, k: number) => DataframeRow {
  const { axes, metrics: g } = grid;
  // Logs per axis value, not per row; `ln` because Math.log is sometimes one ulp off numpy (see ln.ts).
  const logBs = axes.bs.map(ln);
  const amounts = axes.data.map(dataAmount);
  const logAmounts = amounts.map(ln);
  const paras = axes.width.map(paraAmount);
  const logParas = paras.map(ln);
  return (i, j, k) => {
    const at = cellIndex(axes, i, j, k);
    const rfiRow = {} as Record<RfiColumn, number>;
    for (const col of RFI_COLUMN_NAMES) rfiRow[col] = rfi[RFI_COLUMNS[col]][at];
    const rowLabels: Record<string, string | null> = {};
    for (const rule of LABEL_RULES) rowLabels[rule.name] = labels[rule.name][at];
    return {
      numbers: {
        data_amount: amounts[k],
        para_amount: paras[j],
        log_data_amount: logAmounts[k],
        log_para_amount: logParas[j],
        log_bs: logBs[i],
        width: axes.width[j],
        data: Number.parseInt(axes.data[k], 10),
        bs: axes.bs[i],
        test_acc: g.test_acc[at],
        train_acc: g.train_acc[at],
        generalization_gap: g.generalization_gap[at],
        test_loss: g.test_loss[at],
        train_loss: g.train_loss[at],
        CKA: g.CKA[at],
        hessian_e: g.hessian_e[at],
        hessian_t: g.hessian_t[at],
        mode_connectivity: g.mode_connectivity[at],
        mode_connectivity_peak: g.mode_connectivity_peak[at],
        test_error: 100 - g.test_acc[at],
        train_error: 100 - g.train_acc[at],
        ...rfiRow,
      },
      labels: rowLabels,
    };
  };
}

const RFI_COLUMN_NAMES = Object.keys(RFI_COLUMNS) as RfiColumn[];

const INT_SET: ReadonlySet<string> = new Set(INT_COLUMNS);

/** One cell's text: integers as integers, floats as Python's repr, NaN and null as an empty cell. */
function cellText(column: NumberColumn, v: number): string {
  if (Number.isNaN(v)) return '';
  return INT_SET.has(column) ? String(v) : formatPythonFloat(v);
}

/** A cell CSV must quote (csv-stringify's rule: the delimiter, a quote, or a line break in it). */
const NEEDS_QUOTES = /[",\r\n]/;

/** A row's cells as CSV text, unquoted. */
export function csvRecord(row: DataframeRow): string[] {
  return [...NUMBER_COLUMNS.map((c) => cellText(c, row.numbers[c])), ...LABEL_RULES.map((rule) => row.labels[rule.name] ?? '')];
}

/** The header line's cells. */
export const CSV_HEADER: readonly string[] = DATAFRAME_COLUMNS;

/** True when a record has a cell CSV must quote (it is then not one plain line of joined cells). */
export function needsQuotes(record: readonly string[]): boolean {
  return record.some((cell) => NEEDS_QUOTES.test(cell));
}

/**
 * The CSV text (header, then one line per row, `\n` line ends as pandas writes them).
 *
 * Cells are numbers and label words, which never need quoting: they are joined directly, which measured
 * 10 times faster than csv-stringify on 1,690 rows (119-166 ms). Should a label or column name ever need
 * quotes, csv-stringify writes the whole table as before.
 */
export function dataframeToCsv(rows: readonly DataframeRow[]): string {
  const records = rows.map(csvRecord);
  const header = [...CSV_HEADER];
  if (needsQuotes(header) || records.some(needsQuotes)) {
    return stringify([header, ...records], { record_delimiter: 'unix' });
  }
  let out = `${header.join(',')}\n`;
  for (const record of records) out += `${record.join(',')}\n`;
  return out;
}
