/**
 * The phase diagrams of a collection (as in the MD tree paper): one heatmap per label and per main metric,
 * over batch size (rows) x width (columns), one panel per data fraction, written as Vega-Lite specs.
 * Rendering them is `render.ts`'s job; this file only says what is drawn.
 *
 * Axes are ordinal, so the ticks are exactly the grid's axis values (16, 24, ... 1024) in the grid's
 * order, whatever the spacing. A cell with no value (a configuration with no checkpoint folder, a NaN
 * metric, a label with a NaN operand) is drawn in grey and named "missing" in its own legend, never left
 * out or coloured as a value.
 */
import type { Axes, Grid } from '../grid.js';
import { cellIndex } from '../grid.js';
import type { LabelGrids } from '../labels.js';
import { LABEL_RULES } from '../labels.js';
import type { MetricName } from '../metrics.js';

/** The metrics drawn, with their titles: the paper's main diagnostics. */
export const PLOTTED_METRICS: readonly { metric: MetricName; title: string; scheme: string; mid?: number }[] = [
  { metric: 'test_acc', title: 'test accuracy (%)', scheme: 'viridis' },
  { metric: 'train_acc', title: 'train accuracy (%)', scheme: 'viridis' },
  { metric: 'hessian_t', title: 'Hessian trace (hessian_t)', scheme: 'magma' },
  { metric: 'mode_connectivity', title: 'mode connectivity', scheme: 'blueorange', mid: 0 },
  { metric: 'CKA', title: 'CKA similarity', scheme: 'viridis' },
];

/** Colours of each label's values, fixed so a value keeps its colour across plots and collections. */
const LABEL_COLOURS: Record<string, string> = {
  small: '#4e79a7', large: '#e15759', optimal: '#59a14f', width: '#f28e2b', batch: '#76b7b2', data: '#b07aa1',
};
export const MISSING_COLOUR = '#d0d0d0';

/** The names of the plots of a collection (files `plots/<name>.svg` and `.png`), in drawing order. */
export const PLOT_NAMES: readonly string[] = [...LABEL_RULES.map((r) => r.name), ...PLOTTED_METRICS.map((m) => m.metric)];

interface Cell {
  bs: number;
  width: number;
  /** The data fraction's panel title: "100 %" for "10". */
  data: string;
  value: number | string | null;
}

/** "10" (tenths of the training set) as a panel title. */
const dataTitle = (d: string): string => `${Number.parseInt(d, 10) * 10} % of the data`;

function cells(axes: Axes, valueAt: (at: number) => number | string | null): Cell[] {
  const out: Cell[] = [];
  for (let i = 0; i < axes.bs.length; i++) {
    for (let j = 0; j < axes.width.length; j++) {
      for (let k = 0; k < axes.data.length; k++) {
        const v = valueAt(cellIndex(axes, i, j, k));
        out.push({ bs: axes.bs[i], width: axes.width[j], data: dataTitle(axes.data[k]), value: typeof v === 'number' && !Number.isFinite(v) ? null : v });
      }
    }
  }
  return out;
}

/** A Vega-Lite spec: JSON, typed loosely on purpose (vega-lite's own types are checked when it compiles). */
export type VegaLiteSpec = Record<string, unknown>;

function heatmap(title: string, axes: Axes, values: Cell[], color: Record<string, unknown>): VegaLiteSpec {
  const position = {
    x: { field: 'width', type: 'ordinal', sort: [...axes.width], title: 'width (ResNet-18 multiplier)', axis: { labelAngle: 0 } },
    y: { field: 'bs', type: 'ordinal', sort: [...axes.bs].reverse(), title: 'batch size' },
  };
  const panels = Math.min(axes.data.length, 5);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 14 },
    background: 'white',
    padding: 8,
    data: { values },
    facet: { field: 'data', type: 'ordinal', sort: axes.data.map(dataTitle), title: null },
    columns: panels,
    spec: {
      // 16 units per width column: at 12 the three-digit ticks ("91", "128") ran into each other.
      width: 16 * axes.width.length + 20,
      height: 12 * axes.bs.length + 20,
      layer: [
        {
          transform: [{ filter: 'datum.value === null' }],
          mark: { type: 'rect' },
          encoding: { ...position, fill: { datum: 'missing', type: 'nominal', scale: { domain: ['missing'], range: [MISSING_COLOUR] }, legend: { title: null, orient: 'right' } } },
        },
        {
          transform: [{ filter: 'datum.value !== null' }],
          mark: { type: 'rect' },
          encoding: { ...position, color: { field: 'value', ...color } },
        },
      ],
    },
    resolve: { scale: { fill: 'shared', color: 'shared' } },
    config: { font: 'DejaVu Sans, sans-serif', axis: { labelFontSize: 8, titleFontSize: 10 }, header: { labelFontSize: 11 }, view: { stroke: '#888' } },
  };
}

/** Every plot of a collection, by name (see PLOT_NAMES). */
export function collectionPlots(collection: string, grid: Grid, labels: LabelGrids): Map<string, VegaLiteSpec> {
  const plots = new Map<string, VegaLiteSpec>();
  for (const rule of LABEL_RULES) {
    const values = labels[rule.name];
    const domain = [rule.greater, rule.equal, rule.less];
    plots.set(rule.name, heatmap(`${collection}: ${rule.name} (${rule.greater} / ${rule.equal} / ${rule.less})`, grid.axes, cells(grid.axes, (at) => values[at]), {
      type: 'nominal',
      title: rule.name,
      scale: { domain, range: domain.map((v) => LABEL_COLOURS[v]) },
    }));
  }
  for (const m of PLOTTED_METRICS) {
    const values = grid.metrics[m.metric];
    plots.set(m.metric, heatmap(`${collection}: ${m.title}`, grid.axes, cells(grid.axes, (at) => values[at]), {
      type: 'quantitative',
      title: m.metric,
      scale: { scheme: m.scheme, ...(m.mid === undefined ? {} : { domainMid: m.mid }) },
    }));
  }
  return plots;
}
