/**
 * The dataframe's labels (SPEC "Labels"), declared as data: each compares a left operand with the max of
 * its right operands and names the outcome. A new label is one more entry in LABEL_RULES.
 */

import type { Operation, RfiGrids } from './rfi.js';

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

/** SPEC's three labels, in dataframe column order. */
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
  const row = {} as Record<RfiColumn, number>;
  const columns = Object.entries(RFI_COLUMNS) as Array<[RfiColumn, Operation]>;
  for (let at = 0; at < n; at++) {
    for (const [col, op] of columns) row[col] = rfi[op][at];
    for (const rule of rules) out[rule.name][at] = evaluateLabel(rule, row);
  }
  return out;
}
