/**
 * After a run, the CLI writes `<outDir>/last-run.json`, `<outDir>/graph.svg` and `<outDir>/index.html`
 * (see cli/index-page.ts for why the CLI and not a task). The graph is coloured from the run's own
 * outcomes (executed or cached: fresh; failed; skipped: stale), not from a second pass over the cache.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { Engine, RunResult } from '../pipeline/index.js';
import { PLOT_NAMES } from '../tasks/plot.js';
import fs from 'node:fs';
import path from 'node:path';
import { statusDot } from './commands/graph.js';
import type { NodeStatus } from './graph-picture.js';
import { GRAPH_DOT_FILE, GRAPH_FILE, INDEX_FILE, indexHtml } from './index-page.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LAST_RUN_FILE, lastRunOf } from './last-run.js';

/**
 * graph.svg, drawn again only when its DOT changed (kept beside it as graph.dot): loading Graphviz's
 * WebAssembly costs 0.3-3 s (measured; the machine was loaded), which a no-op run must not pay, and a
 * no-op's graph (every task fresh) is the same as the last one's.
 */
async function graphSvg(engine: Engine, outDir: string, statuses: ReadonlyMap<string, NodeStatus>): Promise<string> {
  const dot = await statusDot(engine, {}, statuses);
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(path.join(outDir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const previous = read(GRAPH_DOT_FILE) === dot ? read(GRAPH_FILE) : undefined;
  if (previous !== undefined) return previous;
  const { dotToSvg } = await import('./graph-picture.js');
  const svg = await dotToSvg(dot);
  await writeFileAtomic(path.join(outDir, GRAPH_FILE), svg);
  await writeFileAtomic(path.join(outDir, GRAPH_DOT_FILE), dot); // after the svg: a crash between leaves a dot that does not match
  return svg;
}

export async function writeRunPages(engine: Engine, config: ResolvedConfig, result: RunResult): Promise<void> {
  const run = lastRunOf(result);
  await writeFileAtomic(path.join(config.outDir, LAST_RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
  const statuses = new Map<string, NodeStatus>(
    result.outcomes.map((o) => [o.id, o.status === 'failed' ? 'failed' : o.status === 'skipped' ? 'stale' : 'fresh']),
  );
  const svg = await graphSvg(engine, config.outDir, statuses);
  const names = config.collections.map((c) => c.name);
  await writeFileAtomic(path.join(config.outDir, INDEX_FILE), indexHtml(config.outDir, names, PLOT_NAMES, run, svg));
}
