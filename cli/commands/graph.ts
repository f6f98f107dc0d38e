/**
 * `mdpipe graph`: the task graph as text, Graphviz DOT, Mermaid or JSON, or drawn (svg, html) with each
 * node coloured by status when a cache exists. Text, DOT, Mermaid, svg and html show the kind graph
 * (partitions folded: `parse:basic/* (1,690)`) unless `--full`; JSON lists every task and edge.
 * Needs discovery; reads the cache only to colour a drawing.
 */
import fs from 'node:fs';
import { foldedId, type Engine, type GraphFormat } from '../../pipeline/index.js';
import type { NodeStatus } from '../graph-picture.js';
import { EXIT } from '../exit-codes.js';
import { readLastRun } from '../last-run.js';
import { openProject, loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';
import type { ResolvedConfig } from '../../config/load.js';

/** What `--format` accepts: the engine's text formats plus the drawings made here. */
export type GraphCommandFormat = GraphFormat | 'svg' | 'html';

export interface GraphFlags {
  format: GraphCommandFormat;
  full?: boolean;
  maxNodes?: number;
}

export async function graphCommand(session: Session, targets: string[], flags: GraphFlags): Promise<number> {
  const config = loadProjectConfig(session);
  const engine = await openProject(session, config);
  try {
    if (flags.format === 'svg' || flags.format === 'html') {
      const statuses = await statusesFromCache(engine, config, targets);
      session.terminal.out(await drawGraph(engine, flags.format, { full: flags.full, maxNodes: flags.maxNodes, targets }, statuses));
    } else {
      session.terminal.out(engine.renderGraph(flags.format, { full: flags.full, maxNodes: flags.maxNodes, targets }));
    }
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** Each task's status from the cache (a dry run), failed where the last run says so; none without a cache. */
export async function statusesFromCache(engine: Engine, config: ResolvedConfig, targets: string[] = []): Promise<Map<string, NodeStatus> | undefined> {
  if (!fs.existsSync(config.cacheDir)) return undefined;
  const failed = new Set((readLastRun(config.outDir)?.outcomes ?? []).filter((o) => o.status === 'failed').map((o) => o.id));
  const statuses = new Map<string, NodeStatus>();
  // '**' rather than no target: a run without targets leaves out the plot tasks, the drawing shows them.
  for (const t of await engine.status({ targets: targets.length > 0 ? targets : ['**'] })) {
    statuses.set(t.id, t.state === 'fresh' ? 'fresh' : failed.has(t.id) ? 'failed' : 'stale');
  }
  return statuses;
}

/** The graph drawn as SVG (or an HTML page holding it), nodes coloured by `statuses` when given. */
export async function drawGraph(
  engine: Engine,
  format: 'svg' | 'html',
  options: { full?: boolean; maxNodes?: number; targets?: string[] },
  statuses: ReadonlyMap<string, NodeStatus> | undefined,
): Promise<string> {
  const { dotToSvg, svgToHtml } = await import('../graph-picture.js');
  const svg = await dotToSvg(await statusDot(engine, options, statuses));
  return format === 'svg' ? svg : svgToHtml(svg, 'mdpipe task graph');
}

/** The DOT that `drawGraph` lays out: the engine's, with the status colours when given. */
export async function statusDot(engine: Engine, options: { full?: boolean; maxNodes?: number; targets?: string[] }, statuses: ReadonlyMap<string, NodeStatus> | undefined): Promise<string> {
  const { colourDot } = await import('../graph-picture.js');
  const dot = engine.renderGraph('dot', options);
  return statuses ? colourDot(dot, statuses, foldedId) : dot;
}
