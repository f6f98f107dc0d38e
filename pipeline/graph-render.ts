/**
 * Renders the task graph as text, Graphviz DOT, Mermaid or JSON.
 *
 * Text, DOT and Mermaid default to the kind graph: partitions fold into one node per group with their
 * count (`parse:basic/* (1,690)`), so a graph of thousands of tasks reads as a handful of nodes. The full
 * graph is opt-in and capped (`maxNodes`); above the cap the kind graph is shown with a hint. JSON always
 * lists every node and edge (`{"nodes": [{"id", "kind"}], "edges": [{"source", "target"}]}`, edges running
 * upstream → downstream): it is for programs, which do not need folding.
 */
import { foldedId } from './graph-fold.js';
import type { TaskGraph } from './task-graph.js';
import { countText } from '../util/count-text.js';

export type GraphFormat = 'text' | 'dot' | 'mermaid' | 'json';
export const GRAPH_FORMATS: readonly GraphFormat[] = ['text', 'dot', 'mermaid', 'json'];

export interface RenderGraphOptions {
  /** Every task rather than the kind graph (text, dot, mermaid). */
  full?: boolean;
  /** Largest full graph drawn before falling back to the kind graph with a hint (default 500). */
  maxNodes?: number;
  /** Only these task indices (a selection: targets and their upstream). Default: all. */
  subset?: readonly number[];
}

interface DrawNode {
  id: string;
  kind: string;
  /** Tasks folded into this node (1 for a plain task). */
  count: number;
  folded: boolean;
}

interface Drawing {
  nodes: DrawNode[];
  edges: [string, string][];
  hint?: string;
}


/** The nodes and edges to draw, folded or not. */
function drawing(graph: TaskGraph, options: RenderGraphOptions): Drawing {
  const subset = options.subset ?? graph.order;
  const inSubset = new Uint8Array(graph.tasks.length);
  for (const i of subset) inSubset[i] = 1;
  const maxNodes = options.maxNodes ?? 500;
  let fold = !options.full;
  let hint: string | undefined;
  if (options.full && subset.length > maxNodes) {
    fold = true;
    hint = `the full graph has ${countText(subset.length)} tasks, over the limit of ${countText(maxNodes)}; showing the kind graph. Raise the limit (\`--max-nodes ${subset.length}\` on the command line), select fewer targets, or use the json format.`;
  }
  const nameOf = (i: number): string => (fold && graph.partitioned[i] ? foldedId(graph.ids[i]) : graph.ids[i]);
  const nodes = new Map<string, DrawNode>();
  const edges = new Map<string, [string, string]>();
  for (const i of graph.order) {
    if (!inSubset[i]) continue;
    const name = nameOf(i);
    const node = nodes.get(name);
    if (node) node.count++;
    else nodes.set(name, { id: name, kind: graph.tasks[i].kind, count: 1, folded: name !== graph.ids[i] });
    for (const dep of graph.deps[i]) {
      if (!inSubset[dep]) continue;
      const from = nameOf(dep);
      if (from !== name) edges.set(`${from}\u0000${name}`, [from, name]);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], hint };
}

const label = (node: DrawNode): string => (node.folded ? `${node.id} (${countText(node.count)})` : node.id);

function renderText(d: Drawing): string {
  const upstream = new Map<string, string[]>();
  for (const [from, to] of d.edges) upstream.set(to, [...(upstream.get(to) ?? []), from]);
  const lines: string[] = [];
  if (d.hint) lines.push(`# ${d.hint}`);
  const width = Math.min(48, Math.max(...d.nodes.map((n) => label(n).length), 0));
  for (const node of d.nodes) {
    const from = upstream.get(node.id);
    lines.push(from ? `${label(node).padEnd(width)}  <- ${from.join(', ')}` : label(node));
  }
  return `${lines.join('\n')}\n`;
}

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function renderDot(d: Drawing): string {
  const lines = ['digraph mdpipe {', '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  if (d.hint) lines.unshift(`// ${d.hint}`);
  for (const node of d.nodes) {
    lines.push(`  ${quote(node.id)} [label=${quote(label(node))}${node.folded ? ', shape=box3d' : ''}];`);
  }
  for (const [from, to] of d.edges) lines.push(`  ${quote(from)} -> ${quote(to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function renderMermaid(d: Drawing): string {
  const lines = ['flowchart LR'];
  if (d.hint) lines.push(`  %% ${d.hint}`);
  const key = new Map<string, string>();
  d.nodes.forEach((node, k) => {
    key.set(node.id, `n${k}`);
    lines.push(`  n${k}["${label(node).replace(/"/g, '#quot;')}"]`);
  });
  for (const [from, to] of d.edges) lines.push(`  ${key.get(from)} --> ${key.get(to)}`);
  return `${lines.join('\n')}\n`;
}

/** Every task and edge (of the subset) as JSON. */
export function graphToJson(graph: TaskGraph, subset?: readonly number[]): {
  nodes: { id: string; kind: string }[];
  edges: { source: string; target: string }[];
} {
  const chosen = subset ?? graph.order;
  const inSubset = new Uint8Array(graph.tasks.length);
  for (const i of chosen) inSubset[i] = 1;
  const nodes: { id: string; kind: string }[] = [];
  const edges: { source: string; target: string }[] = [];
  for (const i of graph.order) {
    if (!inSubset[i]) continue;
    nodes.push({ id: graph.ids[i], kind: graph.tasks[i].kind });
    for (const dep of graph.deps[i]) if (inSubset[dep]) edges.push({ source: graph.ids[dep], target: graph.ids[i] });
  }
  return { nodes, edges };
}

/** Renders the graph in a format (see the file header for what each shows). */
export function renderGraph(graph: TaskGraph, format: GraphFormat, options: RenderGraphOptions = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(graphToJson(graph, options.subset))}\n`;
    case 'text':
      return renderText(drawing(graph, options));
    case 'dot':
      return renderDot(drawing(graph, options));
    case 'mermaid':
      return renderMermaid(drawing(graph, options));
    default: {
      const never: never = format;
      throw new Error(`unknown graph format ${String(never)}`);
    }
  }
}
