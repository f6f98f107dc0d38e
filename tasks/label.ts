/** `label:C`: the failure-source labels (dataset/labels.ts declares the rules as data). */
import { LABEL_RULES, type LabelOutput } from '../dataset/labels.js';
import type { TaskDeclaration } from '../pipeline/index.js';
import { read, refs, taskId } from './ids.js';
import { lazy } from './lazy.js';

const labels = lazy(() => import('../dataset/labels.js'));

/** 2: the value also holds the improvements it came from (to patch from). */
export const LABEL_CODE_VERSION = '2';

export function labelTask(collection: string): TaskDeclaration {
  const rfiRef = refs.rfi(collection);
  return {
    id: taskId('label', collection),
    kind: 'label',
    codeVersion: LABEL_CODE_VERSION,
    // The rules are data: changing one re-labels without a code-version bump.
    params: { rules: LABEL_RULES.map((r) => ({ ...r, right: [...r.right] })) },
    files: [],
    deps: [rfiRef],
    description: 'failure-source labels: bs_failure, width_vs_batch, data_vs_batch',
    // With a previous value, only the cells whose improvements changed are re-labelled.
    incremental: true,
    async run(ctx) {
      const { labelOutput, patchLabels } = await labels();
      const { grids } = read(ctx, rfiRef);
      const previous = ctx.previous?.value as LabelOutput | undefined;
      const value: LabelOutput = (previous && patchLabels(previous, grids)) ?? labelOutput(grids);
      return { value };
    },
  };
}
