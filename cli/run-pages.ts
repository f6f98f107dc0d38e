/**
 * After a run, the CLI writes `<outDir>/last-run.json`, `<outDir>/graph.svg` (and the graph.dot it was
 * drawn from) and `<outDir>/index.html` (see cli/index-page.ts for why the CLI and not a task); `clean
 * --outputs` removes them. The graph is coloured from the run's own outcomes (executed or cached: fresh;
 * failed; skipped: stale), not from a second pass over the cache.
 */
import type { ResolvedConfig } from '../config/load.js';
import { removeStaleTemporaries, type Engine, type RunResult } from '../pipeline/index.js';
import { PLOT_NAMES } from '../tasks/plot.js';
import fs from 'node:fs';
import path from 'node:path';
import { drawTemplate, keepsLayouts, layOutAhead, pictureTemplate } from './graph-layout.js';
import { fillDot, type NodeStatus } from './graph-picture.js';
import { GRAPH_DOT_FILE, GRAPH_FILE, INDEX_FILE, indexHtml } from './index-page.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { LAST_RUN_FILE, lastRunOf } from './last-run.js';

/**
 * graph.svg, drawn again only when its DOT changed (kept beside it as graph.dot), so that a no-op run
 * (every task fresh, the same picture as last time) writes nothing; and drawn from the layout of its
 * structure kept in the cache folder (cli/graph-layout.ts) when only counts or statuses changed, so that
 * such a run does not load Graphviz's WebAssembly nor lay out the graph again (~310 ms on the full-size tree).
 */
async function graphSvg(engine: Engine, config: ResolvedConfig, statuses: ReadonlyMap<string, NodeStatus>): Promise<string> {
  const template = pictureTemplate(engine, {}, statuses);
  const dot = fillDot(template);
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(path.join(config.outDir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
  const previous = read(GRAPH_DOT_FILE) === dot ? read(GRAPH_FILE) : undefined;
  if (previous !== undefined) return previous;
  const svg = await drawTemplate(template, config.cacheDir);
  await writeFileAtomic(path.join(config.outDir, GRAPH_FILE), svg);
  await writeFileAtomic(path.join(config.outDir, GRAPH_DOT_FILE), dot); // after the svg: a crash between leaves a dot that does not match
  return svg;
}

/**
 * Called before a run without targets: on a project's first build (no layout kept at all), starts laying
 * out the page's graph on a worker thread (cli/graph-layout.ts, `layOutAhead`). The structure depends on
 * which nodes get a status, not on which status: every task a plain run takes (all but the plot tasks)
 * gets one. Not when layouts are kept: making the template costs ~10 ms, which a no-op should not pay.
 */
export function prepareRunPages(engine: Engine, config: ResolvedConfig): void {
  if (keepsLayouts(config.cacheDir)) return;
  const statuses = new Map<string, NodeStatus>(engine.graph.tasks.filter((t) => !t.onlyWhenTargeted).map((t) => [t.id, 'fresh']));
  layOutAhead(pictureTemplate(engine, {}, statuses), config.cacheDir);
}

export async function writeRunPages(engine: Engine, config: ResolvedConfig, result: RunResult): Promise<void> {
  const run = lastRunOf(result);
  await writeFileAtomic(path.join(config.outDir, LAST_RUN_FILE), `${JSON.stringify(run, null, 2)}\n`);
  const statuses = new Map<string, NodeStatus>(
    result.outcomes.map((o) => [o.id, o.status === 'failed' ? 'failed' : o.status === 'skipped' ? 'stale' : 'fresh']),
  );
  const svg = await graphSvg(engine, config, statuses);
  const names = config.collections.map((c) => c.name);
  await writeFileAtomic(path.join(config.outDir, INDEX_FILE), indexHtml(config.outDir, names, PLOT_NAMES, run, svg));
}

/** The files {@link writeRunPages} writes in the output folder: no cache record names them. */
export const RUN_PAGE_FILES: readonly string[] = [LAST_RUN_FILE, GRAPH_FILE, GRAPH_DOT_FILE, INDEX_FILE];

/** Removes the run pages, and temporaries of them a killed run left; returns the pages removed. */
export async function removeRunPages(outDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of RUN_PAGE_FILES) {
    const file = path.join(outDir, name);
    await removeStaleTemporaries(file);
    if (!fs.existsSync(file)) continue;
    fs.rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}
