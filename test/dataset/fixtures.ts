/** Small hand-made grids shared by the dataframe and dictionary tests. */
import { cellIndex, emptyGrid, type Axes, type Grid } from '../../dataset/grid.js';

/**
 * bs [16, 32] x width [2, 4] x data ["10", "05"]; test_acc:
 *   bs 16, w 2: 50, 40    bs 16, w 4: 60, NaN
 *   bs 32, w 2: 55, 45    bs 32, w 4: 70, 65
 * train_acc = test_acc + 1; mode_connectivity_peak -0.0 at (bs 16, w 2, "10"); other metrics NaN.
 */
export function tinyGrid(): Grid {
  const axes: Axes = { bs: [16, 32], width: [2, 4], data: ['10', '05'] };
  const g = emptyGrid(axes);
  const t: number[][][] = [
    [[50, 40], [60, NaN]],
    [[55, 45], [70, 65]],
  ];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) {
    const at = cellIndex(axes, i, j, k);
    g.metrics.test_acc[at] = t[i][j][k];
    g.metrics.train_acc[at] = t[i][j][k] + 1;
  }
  g.metrics.mode_connectivity_peak[cellIndex(axes, 0, 0, 0)] = -0;
  return g;
}
