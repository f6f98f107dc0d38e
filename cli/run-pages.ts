/**
 * After a run, the CLI writes `<outDir>/last-run.json`, `<outDir>/graph.svg` and `<outDir>/index.html`
 * (see cli/index-page.ts for why the CLI and not a task). The graph is coloured from the run's own
 * outcomes (executed or cached: fresh; failed; skipped: stale), not from a second pass over the cache.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Engine, RunResult } from '../pipeline/index.js';
import { PLOT_NAMES } from '../tasks/plot.js';
import { drawGraph } from './commands/graph.js';
import type { NodeStatus } from './graph-picture.js';
import { GRAPH_FILE, INDEX_FILE, indexHtml } from './index-page.js';
import { LAST_RUN_FILE, lastRunOf, writeFileAtomically } from './last-run.js';

export async function writeRunPages(engine: Engine, config: ResolvedConfig, result: RunResult): Promise<void> {
  const run = lastRunOf(result);
  writeFileAtomically(config.outDir, LAST_RUN_FILE, `${JSON.stringify(run, null, 2)}\n`);
  const statuses = new Map<string, NodeStatus>(
    result.outcomes.map((o) => [o.id, o.status === 'failed' ? 'failed' : o.status === 'skipped' ? 'stale' : 'fresh']),
  );
  const svg = await drawGraph(engine, 'svg', {}, statuses);
  writeFileAtomically(config.outDir, GRAPH_FILE, svg);
  const names = config.collections.map((c) => c.name);
  writeFileAtomically(config.outDir, INDEX_FILE, indexHtml(config.outDir, names, PLOT_NAMES, run, svg));
}
