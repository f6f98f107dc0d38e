/**
 * `plot:C`: the collection's phase diagrams (dataset/plots/), SVG and PNG in `<outDir>/<C>/plots/`.
 * Built when a target names it (`mdpipe run 'plot:*'`) or, with `"plots": true` in the config, in every
 * run: rendering takes seconds per collection, which a default build should not pay.
 */
import type { TaskDeclaration } from '../pipeline/index.js';
import { read, refs, taskId } from './ids.js';
import { lazy } from './lazy.js';

export { PLOT_NAMES } from '../dataset/plots/heatmaps.js';

const plotting = lazy(async () => {
  const [heatmaps, render] = await Promise.all([import('../dataset/plots/heatmaps.js'), import('../dataset/plots/render.js')]);
  return { ...heatmaps, ...render };
});

/** Bump when what a plot shows or how it is drawn changes (the rendering libraries are pinned in package.json). 2: wider columns; 3: reads the label stage's `{labels}` value. */
export const PLOT_CODE_VERSION = '3';

export function plotTask(collection: string, options: { always: boolean }): TaskDeclaration {
  const gridRef = refs.grid(collection);
  const labelRef = refs.label(collection);
  return {
    id: taskId('plot', collection),
    kind: 'plot',
    codeVersion: PLOT_CODE_VERSION,
    params: {},
    files: [],
    deps: [gridRef, labelRef],
    description: `label and metric heatmaps (SVG, PNG) in <outDir>/${collection}/plots/`,
    onlyWhenTargeted: !options.always,
    async run(ctx) {
      const { collectionPlots, renderPlots } = await plotting();
      const plots = collectionPlots(collection, read(ctx, gridRef).grid, read(ctx, labelRef).labels);
      const rendered = await renderPlots(plots);
      const files = Object.fromEntries(Object.entries(rendered).map(([name, bytes]) => [`${collection}/${name}`, bytes]));
      return { value: { plots: [...plots.keys()] }, files };
    },
  };
}
