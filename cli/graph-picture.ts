/**
 * `mdpipe graph --format svg|html`: the DOT text of pipeline/graph-render.ts (partitions folded as in the
 * text graph) laid out and drawn by Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz: no system
 * Graphviz needed), each node filled by its status when a cache exists: fresh, stale, or failed (stale and
 * failed in the last run, from `<outDir>/last-run.json`). A folded node takes its members' worst status
 * and says how many of each in its tooltip. Counts, colours and tooltips are slots of a template, so that
 * a layout can serve every run of the same structure (cli/graph-layout.ts).
 */
import { countText } from '../util/count-text.js';
import { importEsm } from '../util/import-esm.js';

export type NodeStatus = 'fresh' | 'stale' | 'failed';
export const STATUS_COLOURS: Record<NodeStatus, string> = { fresh: '#c7e9c0', stale: '#fdd0a2', failed: '#fc9272' };
const RANK: Record<NodeStatus, number> = { fresh: 0, stale: 1, failed: 2 };

const dotEscape = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const quote = (s: string): string => `"${dotEscape(s)}"`;

/** The node a task is drawn as: itself, or its folded group (`parse:basic/*`) when the DOT folds it. */
function nodeOf(id: string, nodes: ReadonlySet<string>, foldedId: (id: string) => string): string | undefined {
  if (nodes.has(id)) return id;
  const folded = foldedId(id);
  return nodes.has(folded) ? folded : undefined;
}

/**
 * A DOT text whose variable parts are numbered slots: `structure` is what Graphviz lays out, `values[i]`
 * is what slot i stands for. A run that only changes counts, statuses or tooltips keeps the structure,
 * so its layout can be reused (cli/graph-layout.ts) with the values filled into the SVG text.
 */
export interface DotTemplate {
  structure: string;
  values: string[];
}

/**
 * Slot tokens, each kept verbatim by Graphviz from DOT to SVG (checked: fillSvg wants each exactly once):
 * text as `~i~` (label counts padded with `~` to the real text's length: in Graphviz's Helvetica metrics a
 * `~` is 0.584 em against 0.556 for a digit, so a box fits its real count within ~5%), colours as the
 * hex colour `#0fXXXX` (no fixed colour of ours is in that range). Task ids are letters, digits and
 * `:/*_-`; a DOT that holds a token anyway gets no slots (drawn whole, as before).
 */
const TOKEN = /~(\d+)~+|#0f([0-9a-f]{4})/g;
const MAX_SLOTS = 0x10000;
const textToken = (i: number, width = 0): string => `~${i}~`.padEnd(width, '~');
const colourToken = (i: number): string => `#0f${i.toString(16).padStart(4, '0')}`;
/** A folded node as pipeline/graph-render.ts writes it: `  "parse:basic/*" [label="parse:basic/* (1,690)", shape=box3d];` */
const FOLDED_LABEL = /^( {2}"(?:[^"\\]|\\.)*" \[label="(?:[^"\\]|\\.)*) \(([\d,]+)\)(", shape=box3d\];)$/gm;

/**
 * The renderer's DOT with each node filled by status, as a template: folded counts, fill colours and
 * tooltips are slots. Later node statements add attributes to a node already declared, so the
 * renderer's DOT is kept as it is and the colours are appended before its closing brace. DOT comments
 * (the renderer's hint, which holds a count) are dropped: Graphviz draws nothing of them.
 */
export function statusTemplate(dot: string, statuses: ReadonlyMap<string, NodeStatus> | undefined, foldedId: (id: string) => string): DotTemplate {
  const base = dot.replace(/^\/\/.*\n/gm, '');
  const values: string[] = [];
  const slots = !new RegExp(TOKEN.source).test(base);
  const slot = (value: string, token: (i: number) => string): string => {
    if (!slots || values.length >= MAX_SLOTS) return dotEscape(value);
    values.push(value);
    return token(values.length - 1);
  };
  let structure = base.replace(FOLDED_LABEL, (_, head: string, count: string, tail: string) => `${head} (${slot(count, (i) => textToken(i, count.length))})${tail}`);
  if (!statuses) return { structure, values };
  const nodes = new Set([...base.matchAll(/^ {2}"((?:[^"\\]|\\.)*)" \[label=/gm)].map((m) => m[1].replace(/\\(.)/g, '$1')));
  const byNode = new Map<string, Record<NodeStatus, number>>();
  for (const [id, status] of statuses) {
    const node = nodeOf(id, nodes, foldedId);
    if (node === undefined) continue;
    const counts = byNode.get(node) ?? { fresh: 0, stale: 0, failed: 0 };
    counts[status]++;
    byNode.set(node, counts);
  }
  const lines: string[] = [];
  // In the DOT's node order, not the statuses' (a run lists its outcomes as they finish): the same
  // structure from run to run.
  for (const node of nodes) {
    const counts = byNode.get(node);
    if (counts === undefined) continue;
    const present = (Object.keys(counts) as NodeStatus[]).filter((s) => counts[s] > 0);
    const worst = [...present].sort((a, b) => RANK[b] - RANK[a])[0];
    const tooltip = present.map((s) => `${countText(counts[s])} ${s}`).join(', ');
    lines.push(`  ${quote(node)} [style=filled, fillcolor="${slot(STATUS_COLOURS[worst], colourToken)}", tooltip="${slot(tooltip, textToken)}"];`);
  }
  lines.push(
    '  subgraph cluster_legend { label="status"; fontname="Helvetica"; fontsize=10; style=dashed;',
    ...(Object.keys(STATUS_COLOURS) as NodeStatus[]).map((s) => `    ${quote(`legend:${s}`)} [label=${quote(s)}, style=filled, fillcolor=${quote(STATUS_COLOURS[s])}, fontsize=10];`),
    '  }',
  );
  const end = structure.lastIndexOf('}');
  structure = `${structure.slice(0, end)}${lines.join('\n')}\n${structure.slice(end)}`;
  return { structure, values };
}

/** Each slot of `text` replaced by `escape(value)`; undefined unless every slot occurs exactly once. */
function fill(text: string, values: readonly string[], escape: (s: string) => string): string | undefined {
  if (values.length === 0) return text;
  const seen = new Uint8Array(values.length);
  let ok = true;
  const filled = text.replace(TOKEN, (token, textSlot: string | undefined, colourSlot: string | undefined) => {
    const i = textSlot !== undefined ? Number(textSlot) : parseInt(colourSlot!, 16);
    if (i >= values.length || seen[i]++) ok = false;
    return ok ? escape(values[i]) : token;
  });
  return ok && seen.every((n) => n === 1) ? filled : undefined;
}

/** The real DOT of a template (what a direct Graphviz render draws). */
export function fillDot(template: DotTemplate): string {
  const dot = fill(template.structure, template.values, dotEscape);
  if (dot === undefined) throw new Error('graph picture: a DOT template whose slots are not each used once (a bug in statusTemplate)');
  return dot;
}

/** The SVG of a template's structure with the values filled in (XML-escaped); undefined if Graphviz did not keep every slot once. */
export function fillSvg(layout: string, values: readonly string[]): string | undefined {
  return fill(layout, values, escapeHtml);
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
