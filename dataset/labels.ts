/**
 * The dataframe's labels (SEMANTICS.md "Labels"), declared as data: each compares a left operand with the max
 * of its right operands and names the outcome. A new label is one more entry in LABEL_RULES.
 */

import type { Axes } from './grid.js';
import { changedCells, nanInReach, type Operation, type RfiGrids } from './rfi.js';

/** The room-for-improvement columns a label can compare. */
export type RfiColumn = 'rfi_width' | 'rfi_data' | 'rfi_inc_temp' | 'rfi_dec_temp';

/** Which operation's improvement each rfi column holds. */
export const RFI_COLUMNS: Readonly<Record<RfiColumn, Operation>> = {
  rfi_width: 'inc-width',
  rfi_data: 'inc-data',
  rfi_inc_temp: 'inc-temp',
  rfi_dec_temp: 'dec-temp',
};

export interface LabelRule {
  /** Column name in the dataframe. */
  name: string;
  left: RfiColumn;
  /** Compared through their max (one operand: itself). */
  right: readonly RfiColumn[];
  /** The label when left > right, left < right, left == right. */
  greater: string;
  less: string;
  equal: string;
}

/** SEMANTICS.md's three labels, in dataframe column order. */
export const LABEL_RULES: readonly LabelRule[] = [
  { name: 'bs_failure', left: 'rfi_inc_temp', right: ['rfi_dec_temp'], greater: 'small', less: 'large', equal: 'optimal' },
  { name: 'width_vs_batch', left: 'rfi_width', right: ['rfi_inc_temp', 'rfi_dec_temp'], greater: 'width', less: 'batch', equal: 'optimal' },
  { name: 'data_vs_batch', left: 'rfi_data', right: ['rfi_inc_temp', 'rfi_dec_temp'], greater: 'data', less: 'batch', equal: 'optimal' },
];

/** A rule's label for one row; `null` (an empty cell) when any operand is NaN. */
export function evaluateLabel(rule: LabelRule, row: Readonly<Record<RfiColumn, number>>): string | null {
  const left = row[rule.left];
  let right = -Infinity;
  for (const col of rule.right) {
    const v = row[col];
    if (Number.isNaN(v)) return null;
    if (v > right) right = v;
  }
  if (Number.isNaN(left)) return null;
  return left > right ? rule.greater : left < right ? rule.less : rule.equal;
}

/** Every rule's label for every cell (grid order): the output of the `label` stage. */
export type LabelGrids = Readonly<Record<string, readonly (string | null)[]>>;

/** Evaluates every rule of `rules` on every cell of the rfi grids. */
export function computeLabels(rfi: RfiGrids, rules: readonly LabelRule[] = LABEL_RULES): LabelGrids {
  const n = rfi['inc-temp'].length;
  const out: Record<string, (string | null)[]> = {};
  for (const rule of rules) out[rule.name] = new Array<string | null>(n);
  const label = cellLabeller(rfi, rules, out);
  for (let at = 0; at < n; at++) label(at);
  return out;
}

const COLUMNS = Object.entries(RFI_COLUMNS) as Array<[RfiColumn, Operation]>;

/** A function that (re)writes every rule's label of one cell into `out`. */
function cellLabeller(rfi: RfiGrids, rules: readonly LabelRule[], out: Record<string, (string | null)[]>): (at: number) => void {
  const row = {} as Record<RfiColumn, number>;
  return (at) => {
    for (const [col, op] of COLUMNS) row[col] = rfi[op][at];
    for (const rule of rules) out[rule.name][at] = evaluateLabel(rule, row);
  };
}

/** What the `label` stage passes on: the labels, and the rfi columns they came from (to patch them next time). */
export interface LabelOutput {
  labels: LabelGrids;
  /** The improvements of the operations a label can compare (RFI_COLUMNS), as they were. */
  from: Readonly<Partial<Record<Operation, Float64Array>>>;
}

/** {@link computeLabels} as the stage's output. */
export function labelOutput(rfi: RfiGrids, rules: readonly LabelRule[] = LABEL_RULES): LabelOutput {
  return { labels: computeLabels(rfi, rules), from: labelInputs(rfi) };
}

/**
 * {@link labelOutput} from the previous output, re-evaluating only the cells where one of the compared
 * improvements changed (bit for bit): a label reads its own cell's improvements only. Returns null when
 * the grid's size changed (compute in full then).
 */
export function patchLabels(previous: LabelOutput, rfi: RfiGrids, rules: readonly LabelRule[] = LABEL_RULES): LabelOutput | null {
  const n = rfi['inc-temp'].length;
  const ops = COLUMNS.map(([, op]) => op);
  if (previous?.from === undefined || previous.labels === undefined) return null; // another shape of value: a hint only
  if (ops.some((op) => previous.from[op]?.length !== n) || rules.some((r) => previous.labels[r.name]?.length !== n)) return null;
  const out: Record<string, (string | null)[]> = {};
  for (const rule of rules) {
    // Copied into `new Array(n)` as computeLabels makes it: v8 serialises a holey array differently from a
    // packed one (`[...xs]`), and the value must be the same bytes whichever way it was made.
    const copy = (out[rule.name] = new Array<string | null>(n));
    const was = previous.labels[rule.name];
    for (let at = 0; at < n; at++) copy[at] = was[at];
  }
  const label = cellLabeller(rfi, rules, out);
  const moved = new Set<number>();
  for (const op of ops) for (const at of changedCells(previous.from[op]!, rfi[op])) moved.add(at);
  for (const at of moved) label(at);
  return { labels: out, from: labelInputs(rfi) };
}

function labelInputs(rfi: RfiGrids): Partial<Record<Operation, Float64Array>> {
  return Object.fromEntries(COLUMNS.map(([, op]) => [op, rfi[op].slice()]));
}

/**
 * Per rule, how many non-empty labels were computed with missing neighbours: a configuration among those
 * its compared improvements range over (SEMANTICS.md's table) has no test accuracy. RFI skips such cells, so
 * a configuration beside missing checkpoints can get `bs_failure = optimal` where the same values with
 * complete neighbours give `large`: the report counts them rather than changing SEMANTICS.md's values.
 */
export function labelsWithMissingNeighbours(testAcc: Float64Array, axes: Axes, labels: LabelGrids, rules: readonly LabelRule[] = LABEL_RULES): Record<string, number> {
  const reach = new Map<Operation, Uint8Array>();
  const nanFor = (col: RfiColumn): Uint8Array => {
    const op = RFI_COLUMNS[col];
    let r = reach.get(op);
    if (!r) reach.set(op, (r = nanInReach(testAcc, axes, op)));
    return r;
  };
  const out: Record<string, number> = {};
  for (const rule of rules) {
    const flags = [rule.left, ...rule.right].map(nanFor);
    const values = labels[rule.name];
    let n = 0;
    for (let at = 0; at < values.length; at++) if (values[at] !== null && flags.some((f) => f[at] === 1)) n++;
    out[rule.name] = n;
  }
  return out;
}
