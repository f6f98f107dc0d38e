/**
 * `mdpipe graph --format svg|html`: the DOT text of pipeline/graph-render.ts (partitions folded as in the
 * text graph) laid out and drawn by Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz: no system
 * Graphviz needed), each node filled by its status when a cache exists: fresh, stale, or failed (stale and
 * failed in the last run, from `<outDir>/last-run.json`). A folded node takes its members' worst status
 * and says how many of each in its tooltip.
 */
import { importEsm } from '../util/import-esm.js';

export type NodeStatus = 'fresh' | 'stale' | 'failed';
export const STATUS_COLOURS: Record<NodeStatus, string> = { fresh: '#c7e9c0', stale: '#fdd0a2', failed: '#fc9272' };
const RANK: Record<NodeStatus, number> = { fresh: 0, stale: 1, failed: 2 };

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The node a task is drawn as: itself, or its folded group (`parse:basic/*`) when the DOT folds it. */
function nodeOf(id: string, nodes: ReadonlySet<string>, foldedId: (id: string) => string): string | undefined {
  if (nodes.has(id)) return id;
  const folded = foldedId(id);
  return nodes.has(folded) ? folded : undefined;
}

/**
 * DOT with each node filled by status: later node statements add attributes to a node already declared,
 * so the renderer's DOT is kept as it is and the colours are appended before its closing brace.
 */
export function colourDot(dot: string, statuses: ReadonlyMap<string, NodeStatus>, foldedId: (id: string) => string): string {
  const nodes = new Set([...dot.matchAll(/^ {2}"((?:[^"\\]|\\.)*)" \[label=/gm)].map((m) => m[1].replace(/\\(.)/g, '$1')));
  const byNode = new Map<string, Record<NodeStatus, number>>();
  for (const [id, status] of statuses) {
    const node = nodeOf(id, nodes, foldedId);
    if (node === undefined) continue;
    const counts = byNode.get(node) ?? { fresh: 0, stale: 0, failed: 0 };
    counts[status]++;
    byNode.set(node, counts);
  }
  const lines: string[] = [];
  for (const [node, counts] of byNode) {
    const worst = (Object.keys(counts) as NodeStatus[]).filter((s) => counts[s] > 0).sort((a, b) => RANK[b] - RANK[a])[0];
    const tooltip = (Object.keys(counts) as NodeStatus[]).filter((s) => counts[s] > 0).map((s) => `${counts[s]} ${s}`).join(', ');
    lines.push(`  ${quote(node)} [style=filled, fillcolor=${quote(STATUS_COLOURS[worst])}, tooltip=${quote(tooltip)}];`);
  }
  lines.push(
    '  subgraph cluster_legend { label="status"; fontname="Helvetica"; fontsize=10; style=dashed;',
    ...(Object.keys(STATUS_COLOURS) as NodeStatus[]).map((s) => `    ${quote(`legend:${s}`)} [label=${quote(s)}, style=filled, fillcolor=${quote(STATUS_COLOURS[s])}, fontsize=10];`),
    '  }',
  );
  const end = dot.lastIndexOf('}');
  return `${dot.slice(0, end)}${lines.join('\n')}\n${dot.slice(end)}`;
}

/** DOT laid out and drawn as SVG by Graphviz (WebAssembly). */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await importEsm<typeof import('@hpcc-js/wasm-graphviz')>('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, 'svg');
}

/** One page that opens from disk: the SVG inline (no script, no network). */
export function svgToHtml(svg: string, title: string): string {
  const body = svg.replace(/^<\?xml[^>]*>\s*/, '').replace(/^<!DOCTYPE[^>]*>\s*/, '');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:1.5em}svg{max-width:100%;height:auto}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
