/** `rfi:C`: the room for improvement of every configuration under the six operations. */
import type { RfiOutput } from '../dataset/rfi.js';
import type { TaskDeclaration } from '../pipeline/index.js';
import { read, refs, taskId } from './ids.js';
import { lazy } from './lazy.js';

const rfi = lazy(() => import('../dataset/rfi.js'));

/** 2: the value also holds the test accuracies it came from (to patch from). */
export const RFI_CODE_VERSION = '2';

export function rfiTask(collection: string): TaskDeclaration {
  const gridRef = refs.grid(collection);
  return {
    id: taskId('rfi', collection),
    kind: 'rfi',
    codeVersion: RFI_CODE_VERSION,
    params: {},
    files: [],
    deps: [gridRef],
    description: 'room for improvement under the six operations',
    // With a previous value, only the lines through cells whose test accuracy changed are recomputed.
    incremental: true,
    async run(ctx) {
      const { patchRfi, rfiOutput } = await rfi();
      const { grid } = read(ctx, gridRef);
      const previous = ctx.previous?.value as RfiOutput | undefined;
      const value: RfiOutput = (previous && patchRfi(previous, grid.metrics.test_acc, grid.axes)) ?? rfiOutput(grid.metrics.test_acc, grid.axes);
      return { value };
    },
  };
}
