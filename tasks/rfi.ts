/** `rfi:C`: the room for improvement of every configuration under the six operations. */
import type { RfiGrids } from '../dataset/rfi.js';
import type { TaskDeclaration } from '../pipeline/task.js';
import type { GridOutput } from './grid.js';
import { taskId } from './ids.js';
import { lazy } from './lazy.js';

const rfi = lazy(() => import('../dataset/rfi.js'));

export const RFI_CODE_VERSION = '1';

export function rfiTask(collection: string): TaskDeclaration {
  const gridId = taskId('grid', collection);
  return {
    id: taskId('rfi', collection),
    kind: 'rfi',
    codeVersion: RFI_CODE_VERSION,
    params: {},
    files: [],
    deps: [gridId],
    description: 'room for improvement under the six operations',
    async run(ctx) {
      const { computeRfi } = await rfi();
      const { grid } = ctx.upstream.get(gridId) as GridOutput;
      const value: RfiGrids = computeRfi(grid.metrics.test_acc, grid.axes);
      return { value };
    },
  };
}
