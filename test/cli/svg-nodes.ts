/**
 * A light XML check of an SVG, and what each node and edge of a Graphviz drawing shows. Written here
 * rather than with an XML library because the project has none and needs none at run time: this catches
 * what a text substitution can break (a raw `<`, `&` or `"`, an unbalanced tag); where chromium is
 * installed, graph-layout.test.ts also parses the same drawings with the browser's strict XML parser.
 */

export interface DrawnNode {
  /** The node's id (Graphviz's `<title>`). */
  title: string;
  /** Every text the node shows, in order. */
  texts: string[];
  /** The fill of its shape (the first polygon or ellipse). */
  fill: string | undefined;
  /** Its tooltip (`<a xlink:title>`). */
  tooltip: string | undefined;
}

export interface Drawn {
  nodes: DrawnNode[];
  /** Edge titles (`a->b`), sorted. */
  edges: string[];
}

interface Element {
  name: string;
  attrs: Map<string, string>;
  children: (Element | string)[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g;

/** Character data with its entities decoded; throws on a raw `<` or a bare `&`. */
function decode(raw: string, where: string, quote = ''): string {
  if (raw.includes('<') || raw.replace(ENTITY, '').includes('&') || (quote && raw.includes(quote))) {
    throw new Error(`not well-formed XML: ${where}: ${JSON.stringify(raw.slice(0, 80))}`);
  }
  return raw.replace(ENTITY, (_, name: string | undefined, dec: string | undefined, hex: string | undefined) =>
    name ? ENTITIES[name] : String.fromCodePoint(dec ? Number(dec) : parseInt(hex!, 16)));
}

const TOKEN = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|([^<]+)|(<[\s\S]{0,40})/g;

/** The document element of `xml`; throws where it is not well-formed (tags, attributes, character data). */
export function parseXml(xml: string): Element {
  const root: Element = { name: '#document', attrs: new Map(), children: [] };
  const stack = [root];
  for (const m of xml.matchAll(TOKEN)) {
    const [, close, name, attrs, selfClose, text, stray] = m;
    if (stray !== undefined) throw new Error(`not well-formed XML: a stray '<' at ${JSON.stringify(stray)}`);
    const top = stack[stack.length - 1];
    if (text !== undefined) {
      const decoded = decode(text, `text in <${top.name}>`);
      if (top === root && decoded.trim() !== '') throw new Error('not well-formed XML: text outside the document element');
      top.children.push(decoded);
    } else if (name === undefined) {
      continue; // comment, declaration, doctype
    } else if (close) {
      if (top.name !== name) throw new Error(`not well-formed XML: </${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const element: Element = { name, attrs: new Map(), children: [] };
      for (const a of attrs.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
        if (element.attrs.has(a[1])) throw new Error(`not well-formed XML: <${name}> repeats ${a[1]}`);
        element.attrs.set(a[1], decode(a[2], `<${name} ${a[1]}>`, '"'));
      }
      top.children.push(element);
      if (!selfClose) stack.push(element);
    }
  }
  if (stack.length !== 1) throw new Error(`not well-formed XML: <${stack[stack.length - 1].name}> is not closed`);
  const elements = root.children.filter((c): c is Element => typeof c !== 'string');
  if (elements.length !== 1) throw new Error(`not well-formed XML: ${elements.length} document elements`);
  return elements[0];
}

function* descendants(e: Element): Generator<Element> {
  for (const c of e.children) {
    if (typeof c === 'string') continue;
    yield c;
    yield* descendants(c);
  }
}

const textOf = (e: Element): string => e.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');

/** The nodes (by title) and edges a Graphviz SVG shows, after checking that it is well-formed XML. */
export function drawnGraph(svg: string): Drawn {
  const doc = parseXml(svg);
  const nodes: DrawnNode[] = [];
  const edges: string[] = [];
  for (const g of descendants(doc)) {
    if (g.name !== 'g') continue;
    const title = g.children.find((c): c is Element => typeof c !== 'string' && c.name === 'title');
    const inside = [...descendants(g)];
    if (g.attrs.get('class') === 'edge') edges.push(textOf(title!));
    if (g.attrs.get('class') !== 'node') continue;
    nodes.push({
      title: textOf(title!),
      texts: inside.filter((e) => e.name === 'text').map(textOf),
      fill: inside.find((e) => e.name === 'polygon' || e.name === 'ellipse')?.attrs.get('fill'),
      tooltip: inside.find((e) => e.name === 'a')?.attrs.get('xlink:title'),
    });
  }
  return { nodes: nodes.sort((a, b) => (a.title < b.title ? -1 : 1)), edges: edges.sort() };
}
