/**
 * A collection's two text exports, `dataframe.csv` and `dictionary.json`, written in full or patched from
 * the previous files. Each holds one line per configuration in the same order (after the CSV header and
 * the dictionary's opening brace), so a patch formats only the configurations whose line can have changed
 * and copies the other lines' bytes: formatting is most of an export's cost (1,690 rows and entries,
 * every float spelled as Python does), copying bytes is not.
 */
import { buildDataframeRows, csvRecord, CSV_HEADER, dataframeRowMaker, dataframeRowOf, dataframeToCsv, needsQuotes } from './dataframe.js';
import { dictionaryEntries, dictionaryEntryMaker, dictionaryLineWriter, dictionaryToBytes, type DictionaryOptions } from './dictionary.js';
import { cellCoordinates, gridSize, sameAxes, type Grid } from './grid.js';
import type { LabelGrids } from './labels.js';
import { METRIC_NAMES } from './metrics.js';
import { changedCells, lineThrough, type RfiGrids } from './rfi.js';

/** What the text exports are made of. */
export interface ExportInputs {
  grid: Grid;
  rfi: RfiGrids;
  labels: LabelGrids;
  dictionary: DictionaryOptions;
}

export interface TextExports {
  csv: Uint8Array;
  json: Uint8Array;
}

/** Both files in full. */
export function textExports(x: ExportInputs): TextExports {
  return {
    csv: Buffer.from(dataframeToCsv(buildDataframeRows(x.grid, x.rfi, x.labels)), 'utf8'),
    json: dictionaryToBytes(dictionaryEntries(x.grid, x.dictionary)),
  };
}

/**
 * Both files patched from the previous ones, byte for byte what {@link textExports} gives.
 * @param previous the grid the previous files were written from (the previous grid.npz) and their bytes
 * @returns null when a patch does not apply (the axes changed, or the previous files are not the shape
 *   these writers give): write them in full then
 */
export function patchTextExports(previous: { grid: Grid; csv: Uint8Array; json: Uint8Array }, x: ExportInputs): TextExports | null {
  const { grid } = x;
  const { axes } = grid;
  if (!sameAxes(previous.grid.axes, axes)) return null;
  const n = gridSize(axes);
  const csvLines = lineStarts(previous.csv, n + 1); // the header, then a row per configuration
  const jsonLines = lineStarts(previous.json, n + 2); // "{", an entry per configuration, "}"
  if (csvLines === null || jsonLines === null) return null;
  if (Buffer.from(previous.csv.buffer, previous.csv.byteOffset, csvLines[1] - 1).toString('utf8') !== CSV_HEADER.join(',')) return null;

  const rowAt = dataframeRowMaker(grid, x.rfi, x.labels);
  const entryAt = dictionaryEntryMaker(grid, x.dictionary);
  const entryLine = dictionaryLineWriter();
  const csv = new Map<number, string>();
  const json = new Map<number, string>();
  for (const at of linesToRewrite(previous.grid, grid)) {
    const [i, j, k] = cellCoordinates(axes, at);
    const r = dataframeRowOf(grid, i, j, k);
    const record = csvRecord(rowAt(i, j, k));
    if (needsQuotes(record)) return null; // csv-stringify writes such a table whole
    csv.set(r + 1, record.join(','));
    const [name, entry] = entryAt(i, j, k);
    json.set(r + 1, entryLine(name, entry) + (r < n - 1 ? ',' : ''));
  }
  return { csv: replaceLines(previous.csv, csvLines, csv), json: replaceLines(previous.json, jsonLines, json) };
}

/**
 * The cells whose row or dictionary entry can differ between two grids on the same axes: a cell with any
 * metric changed, and, where test_acc changed, every cell on the three lines through it, whose room for
 * improvement, labels and `possible_improve` lists range over it (SEMANTICS.md's table).
 */
export function linesToRewrite(before: Grid, after: Grid): number[] {
  const cells = new Set<number>();
  for (const m of METRIC_NAMES) for (const at of changedCells(before.metrics[m], after.metrics[m])) cells.add(at);
  for (const at of changedCells(before.metrics.test_acc, after.metrics.test_acc)) {
    for (const axis of [0, 1, 2] as const) for (const c of lineThrough(after.axes, axis, at)) cells.add(c);
  }
  return [...cells].sort((a, b) => a - b);
}

/**
 * Where each of the `count` lines of `bytes` starts, plus `bytes.length` at the end; null unless the text
 * is exactly `count` lines, each ended by `\n`.
 */
function lineStarts(bytes: Uint8Array, count: number): Int32Array | null {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starts = new Int32Array(count + 1);
  let at = 0;
  for (let line = 0; line < count; line++) {
    starts[line] = at;
    const end = buffer.indexOf(10, at);
    if (end < 0) return null;
    at = end + 1;
  }
  starts[count] = at;
  return at === buffer.length ? starts : null;
}

/** `bytes` with the text of the given lines (without their `\n`) replaced. */
function replaceLines(bytes: Uint8Array, starts: Int32Array, lines: ReadonlyMap<number, string>): Buffer {
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Buffer[] = [];
  let copied = 0;
  for (const line of [...lines.keys()].sort((a, b) => a - b)) {
    parts.push(source.subarray(copied, starts[line]), Buffer.from(lines.get(line)!, 'utf8'));
    copied = starts[line + 1] - 1; // keep the line's `\n`
  }
  parts.push(source.subarray(copied));
  return Buffer.concat(parts);
}
