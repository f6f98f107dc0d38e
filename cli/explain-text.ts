/** The words of `mdpipe explain`: the engine returns the explanation as data, the CLI renders it. */
import type { Explanation } from '../pipeline/index.js';
import { describeChange } from './change-text.js';

/** Why a task would re-run, change by change, and the stored result's provenance, as lines of text. */
export function explainText(explanation: Explanation): string {
  const { id, action, changes, reason, stored } = explanation;
  const lines = [`${id}: ${explanation.state}${action === 'fresh' ? '' : action === 'run' ? ' (would run)' : ' (would run if upstream output changes)'}`];
  if (changes.length > 0) {
    lines.push('changes since the stored result:');
    for (const change of changes) lines.push(`  - ${describeChange(change, true)}`);
  } else if (action !== 'fresh') lines.push(`  - ${reason}`);
  if (stored) {
    lines.push(
      `stored result: key ${stored.key}, output ${stored.outputDigest}, finished ${stored.finishedAt} in ${stored.durationMs} ms (mdpipe ${stored.toolVersion})`,
    );
    if (stored.files.length > 0) lines.push(`published files: ${stored.files.join(', ')}`);
  } else lines.push('no stored result');
  return `${lines.join('\n')}\n`;
}
