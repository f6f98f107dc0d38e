/** `label:C`: the failure-source labels (dataset/labels.ts declares the rules as data). */
import { LABEL_RULES, type LabelGrids } from '../dataset/labels.js';
import type { RfiGrids } from '../dataset/rfi.js';
import type { TaskDeclaration } from '../pipeline/task.js';
import { taskId } from './ids.js';
import { lazy } from './lazy.js';

const labels = lazy(() => import('../dataset/labels.js'));

export const LABEL_CODE_VERSION = '1';

export function labelTask(collection: string): TaskDeclaration {
  const rfiId = taskId('rfi', collection);
  return {
    id: taskId('label', collection),
    kind: 'label',
    codeVersion: LABEL_CODE_VERSION,
    // The rules are data: changing one re-labels without a code-version bump.
    params: { rules: LABEL_RULES.map((r) => ({ ...r, right: [...r.right] })) },
    files: [],
    deps: [rfiId],
    description: 'failure-source labels: bs_failure, width_vs_batch, data_vs_batch',
    async run(ctx) {
      const { computeLabels } = await labels();
      const value: LabelGrids = computeLabels(ctx.upstream.get(rfiId) as RfiGrids);
      return { value };
    },
  };
}
