/**
 * `mdpipe graph`: the task graph as text, Graphviz DOT, Mermaid or JSON. Text, DOT and Mermaid show the
 * kind graph (partitions folded: `parse:basic/* (1,690)`) unless `--full`; JSON lists every task and edge.
 * Needs discovery, never the cache.
 */
import type { GraphFormat } from '../../pipeline/index.js';
import { EXIT } from '../exit-codes.js';
import { openProject, loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';

export interface GraphFlags {
  format: GraphFormat;
  full?: boolean;
  maxNodes?: number;
}

export async function graphCommand(session: Session, targets: string[], flags: GraphFlags): Promise<number> {
  const config = loadProjectConfig(session);
  const engine = await openProject(session, config);
  try {
    session.terminal.out(engine.renderGraph(flags.format, { full: flags.full, maxNodes: flags.maxNodes, targets }));
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
