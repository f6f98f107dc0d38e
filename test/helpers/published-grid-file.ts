/**
 * Writes a grid as the published `metric_grid_*.npy` is laid out (SPEC): an object array holding a pickled
 * dict of the axes (`temp` for bs, `width`, `data`) and one (bs, width, data) float64 array per metric.
 * L2 is not published, so it is left out.
 */
import { writeFileSync } from 'node:fs';
import type { Grid } from '../../dataset/grid.js';
import { METRIC_NAMES } from '../../dataset/metrics.js';
import { NpArray, NpDtype, type PyKey, type PyValue, writeNpy } from '../../formats/index.js';

export const PUBLISHED_METRICS = METRIC_NAMES.filter((m) => m !== 'L2');

export function writePublishedGridFile(g: Grid, path: string): void {
  const f8 = new NpDtype('<f8');
  const d = new Map<PyKey, PyValue>([['temp', [...g.axes.bs]], ['width', [...g.axes.width]], ['data', [...g.axes.data]]]);
  const shape = [g.axes.bs.length, g.axes.width.length, g.axes.data.length];
  for (const m of PUBLISHED_METRICS) d.set(m, new NpArray(f8, shape, g.metrics[m]));
  writeFileSync(path, writeNpy(new NpArray(new NpDtype('|O'), [], [d])));
}
