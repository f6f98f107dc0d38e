/**
 * `mdpipe graph`: the task graph as text, Graphviz DOT, Mermaid or JSON, or drawn (svg, html) with each
 * node coloured by status when a cache exists. Text, DOT, Mermaid, svg and html show the kind graph
 * (partitions folded: `parse:basic/* (1,690)`) unless `--full`; JSON lists every task and edge.
 * Needs discovery; reads the cache only to colour a drawing.
 */
import fs from 'node:fs';
import type { Engine, GraphFormat } from '../../pipeline/index.js';
import { drawTemplate, pictureTemplate } from '../graph-layout.js';
import { svgToHtml, type NodeStatus } from '../graph-picture.js';
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
      // The layout is kept only in a cache folder that exists: drawing does not make one.
      const cacheDir = fs.existsSync(config.cacheDir) ? config.cacheDir : undefined;
      session.terminal.out(await drawGraph(engine, flags.format, { full: flags.full, maxNodes: flags.maxNodes, targets }, statuses, cacheDir));
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

/**
 * The graph drawn as SVG (or an HTML page holding it), nodes coloured by `statuses` when given. With a
 * `cacheDir`, its layout is kept there and reused while the structure stays (cli/graph-layout.ts).
 */
export async function drawGraph(
  engine: Engine,
  format: 'svg' | 'html',
  options: { full?: boolean; maxNodes?: number; targets?: string[] },
  statuses: ReadonlyMap<string, NodeStatus> | undefined,
  cacheDir?: string,
): Promise<string> {
  const svg = await drawTemplate(pictureTemplate(engine, options, statuses), cacheDir);
  return format === 'svg' ? svg : svgToHtml(svg, 'mdpipe task graph');
}
