/**
 * `plot:C`: the collection's phase diagrams (dataset/plots/), SVG and PNG in `<outDir>/<C>/plots/`.
 * Built when a target names it (`mdpipe run 'plot:*'`) or, with `"plots": true` in the config, in every
 * run: rendering takes seconds per collection, which a default build should not pay.
 */
import type { Grid } from '../dataset/grid.js';
import type { LabelGrids } from '../dataset/labels.js';
import type { TaskDeclaration } from '../pipeline/task.js';
import type { GridOutput } from '../dataset/raw-grid.js';
import { taskId } from './ids.js';
import { lazy } from './lazy.js';

export { PLOT_NAMES } from '../dataset/plots/heatmaps.js';

const plotting = lazy(async () => {
  const [heatmaps, render] = await Promise.all([import('../dataset/plots/heatmaps.js'), import('../dataset/plots/render.js')]);
  return { ...heatmaps, ...render };
});

/** Bump when what a plot shows or how it is drawn changes (the rendering libraries are pinned in package.json). 2: wider columns. */
export const PLOT_CODE_VERSION = '2';

export function plotTask(collection: string, options: { always: boolean }): TaskDeclaration {
  const [gridId, labelId] = (['grid', 'label'] as const).map((k) => taskId(k, collection));
  return {
    id: taskId('plot', collection),
    kind: 'plot',
    codeVersion: PLOT_CODE_VERSION,
    params: {},
    files: [],
    deps: [gridId, labelId],
    description: `label and metric heatmaps (SVG, PNG) in <outDir>/${collection}/plots/`,
    onlyWhenTargeted: !options.always,
    async run(ctx) {
      const { collectionPlots, renderPlots } = await plotting();
      const grid: Grid = (ctx.upstream.get(gridId) as GridOutput).grid;
      const plots = collectionPlots(collection, grid, ctx.upstream.get(labelId) as LabelGrids);
      const rendered = await renderPlots(plots);
      const files = Object.fromEntries(Object.entries(rendered).map(([name, bytes]) => [`${collection}/${name}`, bytes]));
      return { value: { plots: [...plots.keys()] }, files };
    },
  };
}
