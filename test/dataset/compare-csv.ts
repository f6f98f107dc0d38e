/** Cell-by-cell comparison of two dataframe CSV texts: numbers within a relative tolerance, text exactly. */
import { parse } from 'csv-parse/sync';
import { closeRel } from '../helpers/shared.js';

/** Columns holding text (labels); every other column is compared as numbers. */
const TEXT_COLUMNS = new Set(['bs_failure', 'width_vs_batch', 'data_vs_batch']);

export interface CsvComparison {
  rows: number;
  cells: number;
  /** Cells whose text is identical. */
  exactText: number;
  /** Cells that are neither identical text nor numbers within the tolerance (with where they are). */
  mismatches: string[];
  /** Per column: cells that match numerically but not as text. */
  textDiffByColumn: Record<string, number>;
}

export function compareCsv(ours: string, theirs: string, rel = 1e-12): CsvComparison {
  const a: string[][] = parse(ours);
  const b: string[][] = parse(theirs);
  const header = b[0];
  const mismatches: string[] = [];
  if (a[0].join(',') !== header.join(',')) mismatches.push(`header: ${a[0].join(',')} != ${header.join(',')}`);
  if (a.length !== b.length) mismatches.push(`row count: ${a.length - 1} != ${b.length - 1}`);
  let cells = 0;
  let exactText = 0;
  const textDiffByColumn: Record<string, number> = {};
  for (let r = 1; r < Math.min(a.length, b.length); r++) {
    if (a[r].length !== b[r].length) mismatches.push(`row ${r}: ${a[r].length} cells, expected ${b[r].length}`);
    for (let c = 0; c < header.length; c++) {
      cells++;
      const x = a[r][c] ?? '<missing>';
      const y = b[r][c];
      if (x === y) {
        exactText++;
        continue;
      }
      const numeric = !TEXT_COLUMNS.has(header[c]) && x !== '' && y !== '';
      if (numeric && closeRel(Number(x), Number(y), rel)) {
        textDiffByColumn[header[c]] = (textDiffByColumn[header[c]] ?? 0) + 1;
      } else {
        mismatches.push(`row ${r} ${header[c]}: ${JSON.stringify(x)} != ${JSON.stringify(y)}`);
      }
    }
  }
  return { rows: a.length - 1, cells, exactText, mismatches, textDiffByColumn };
}
