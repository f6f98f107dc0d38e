/**
 * The graph picture laid out once per structure (cli/graph-layout.ts): counts, fill colours and tooltips
 * are slots, so a change of counts or statuses keeps the structure; the SVG made by filling the kept
 * layout is well-formed and shows what a direct Graphviz render of the real DOT shows (same nodes, texts,
 * fills, tooltips and edges; checked by a light XML parse, and by chromium's strict one where installed);
 * a kept layout serves only its own structure, and a damaged or mismatched one is laid out again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { foldedId } from '../../pipeline/graph-fold.js';
import { renderGraph } from '../../pipeline/graph-render.js';
import { buildTaskGraph } from '../../pipeline/task-graph.js';
import type { TaskDeclaration } from '../../pipeline/task.js';
import { drawTemplate } from '../../cli/graph-layout.js';
import { dotToSvg, fillDot, fillSvg, statusTemplate, STATUS_COLOURS, type DotTemplate, type NodeStatus } from '../../cli/graph-picture.js';
import { browser, chromium, expectExit, mdpipe, smallProject, tempDir } from './support.js';
import { drawnGraph, parseXml, type Drawn } from './svg-nodes.js';

const task = (id: string, deps: string[] = []): TaskDeclaration => ({ id, kind: id.split(':')[0], codeVersion: '1', params: {}, files: [], deps, run: () => ({ value: null }) });

/** The DOT pipeline/graph-render.ts draws for a dataset-shaped graph: `folders` parse tasks per collection. */
function datasetDot(folders: Record<string, number>): string {
  const tasks: TaskDeclaration[] = [];
  const partitions = new Set<string>();
  for (const [c, n] of Object.entries(folders)) {
    for (let k = 0; k < n; k++) {
      tasks.push(task(`parse:${c}/p${k}`));
      partitions.add(`parse:${c}/p${k}`);
    }
    tasks.push(task(`grid:${c}`, [`parse:${c}/*`]), task(`rfi:${c}`, [`grid:${c}`]), task(`label:${c}`, [`rfi:${c}`]));
    tasks.push(task(`export:${c}`, [`grid:${c}`, `rfi:${c}`, `label:${c}`]), task(`plot:${c}`, [`grid:${c}`, `label:${c}`]));
  }
  return renderGraph(buildTaskGraph(tasks, partitions), 'dot');
}

/** Every task of `folders` fresh except `other` (plot tasks have no status, as after a plain run). */
function statusesOf(folders: Record<string, number>, other: Record<string, NodeStatus> = {}): Map<string, NodeStatus> {
  const statuses = new Map<string, NodeStatus>();
  for (const [c, n] of Object.entries(folders)) {
    for (let k = 0; k < n; k++) statuses.set(`parse:${c}/p${k}`, 'fresh');
    for (const kind of ['grid', 'rfi', 'label', 'export']) statuses.set(`${kind}:${c}`, 'fresh');
  }
  for (const [id, s] of Object.entries(other)) statuses.set(id, s);
  return statuses;
}

const FULL = { basic: 1690, noisy: 1690 };
const ONE_MORE = { basic: 1689, noisy: 1690 }; // before one folder landed
const allFresh = statusesOf(FULL);
const mixed = statusesOf(ONE_MORE, { 'parse:basic/p3': 'failed', 'parse:basic/p4': 'stale', 'rfi:basic': 'stale', 'label:basic': 'stale' });

const layoutFiles = (dir: string): string[] => fs.readdirSync(dir).filter((f) => /^graph-layout-[0-9a-f]{16}\.json$/.test(f)).sort();
/** Rewrites the kept layout's SVG. */
function editLayout(file: string, edit: (svg: string) => string): void {
  const layout = JSON.parse(fs.readFileSync(file, 'utf8')) as { structure: string; svg: string };
  fs.writeFileSync(file, JSON.stringify({ ...layout, svg: edit(layout.svg) }));
}
/** Marks the kept layout's SVG with a comment: a picture that carries it was filled from the kept file. */
const markLayout = (file: string): void => editLayout(file, (svg) => svg.replace('<svg ', '<!-- kept layout -->\n<svg '));

describe('graph picture templates', () => {
  test('counts, fill colours and tooltips are slots: a count or status change keeps the structure', () => {
    const a = statusTemplate(datasetDot(FULL), allFresh, foldedId);
    const b = statusTemplate(datasetDot(ONE_MORE), mixed, foldedId);
    expect(b.structure).toBe(a.structure);
    expect(b.values).not.toEqual(a.values);
    const real = fillDot(b);
    expect(real).toContain('"parse:basic/*" [label="parse:basic/* (1,689)", shape=box3d];');
    expect(real).toContain(`"parse:basic/*" [style=filled, fillcolor="${STATUS_COLOURS.failed}", tooltip="1,687 fresh, 1 stale, 1 failed"];`);
    expect(real).toContain(`"rfi:basic" [style=filled, fillcolor="${STATUS_COLOURS.stale}", tooltip="1 stale"];`);
    expect(real).not.toMatch(/~\d+~|#0f[0-9a-f]{4}/);
    expect(fillDot(a)).toContain('"parse:noisy/*" [label="parse:noisy/* (1,690)", shape=box3d];');
    // A count that gets longer widens its slot (the box must fit it): a new structure, laid out once.
    expect(statusTemplate(datasetDot({ basic: 999, noisy: 1690 }), allFresh, foldedId).structure).not.toBe(a.structure);
    // Which nodes have a status is structure (a node without one is not filled and has no tooltip).
    expect(statusTemplate(datasetDot(FULL), statusesOf(FULL, { 'plot:basic': 'fresh' }), foldedId).structure).not.toBe(a.structure);
  });

  test('a DOT whose ids look like slot tokens gets no slots (drawn whole)', () => {
    const dot = 'digraph mdpipe {\n  "a~1~" [label="a~1~"];\n  "b" [label="b"];\n  "a~1~" -> "b";\n}\n';
    const t = statusTemplate(dot, new Map([['b', 'stale']]), foldedId);
    expect(t.values).toEqual([]);
    expect(fillDot(t)).toBe(t.structure);
    expect(t.structure).toContain(`"b" [style=filled, fillcolor="${STATUS_COLOURS.stale}", tooltip="1 stale"];`);
  });

  test('fillSvg wants every slot exactly once', () => {
    expect(fillSvg('<svg><text>~0~</text><text>~1~~</text></svg>', ['a', 'b'])).toBe('<svg><text>a</text><text>b</text></svg>');
    expect(fillSvg('<svg><text>~0~</text></svg>', ['a', 'b'])).toBeUndefined(); // slot 1 lost
    expect(fillSvg('<svg><text>~0~ ~0~</text><text>~1~</text></svg>', ['a', 'b'])).toBeUndefined(); // slot 0 twice
    expect(fillSvg('<svg><text>~0~ ~2~</text><text>~1~</text></svg>', ['a', 'b'])).toBeUndefined(); // no slot 2
    expect(fillSvg('<svg fill="#0f0001"><text>~0~</text></svg>', ['<&>', '#c7e9c0'])).toBe('<svg fill="#c7e9c0"><text>&lt;&amp;&gt;</text></svg>');
  });
});

describe('a picture filled from its layout', () => {
  let filled: string;
  let direct: string;
  let escaping: { filled: string; direct: string };
  beforeAll(async () => {
    const t = statusTemplate(datasetDot(ONE_MORE), mixed, foldedId);
    filled = fillSvg(await dotToSvg(t.structure), t.values)!;
    direct = await dotToSvg(fillDot(t));
    // Values with every character XML and DOT escape (statusTemplate itself only makes counts and words).
    const odd: DotTemplate = {
      structure: 'digraph g {\n  "a" [label="a (~0~~~~~~~~~)", tooltip="~1~", style=filled, fillcolor="#0f0002"];\n  "b" [label="b"];\n  "a" -> "b";\n}\n',
      values: [`<x> & 'y' "z" \\`, 'tip <&"\'>', '#fc9272'],
    };
    escaping = { filled: fillSvg(await dotToSvg(odd.structure), odd.values)!, direct: await dotToSvg(fillDot(odd)) };
  }, 60_000);

  test('is well-formed and shows the same nodes, texts, fills, tooltips and edges as a direct render', () => {
    expect(filled).toBeDefined();
    const fromLayout = drawnGraph(filled);
    expect(fromLayout).toEqual(drawnGraph(direct));
    expect(fromLayout.nodes.map((n) => n.title)).toEqual(expect.arrayContaining(['parse:basic/*', 'export:noisy', 'plot:basic', 'legend:failed']));
    expect(fromLayout.nodes.find((n) => n.title === 'parse:basic/*')).toEqual({
      title: 'parse:basic/*', texts: ['parse:basic/* (1,689)'], fill: STATUS_COLOURS.failed, tooltip: '1,687 fresh, 1 stale, 1 failed',
    });
    expect(fromLayout.nodes.find((n) => n.title === 'plot:basic')).toEqual({ title: 'plot:basic', texts: ['plot:basic'], fill: 'none', tooltip: undefined });
    expect(fromLayout.edges).toContain('grid:basic->rfi:basic');
    expect(filled).not.toMatch(/~\d+~|#0f[0-9a-f]{4}/);
  });

  test('XML-special characters in values come out as Graphviz writes them', () => {
    const fromLayout = drawnGraph(escaping.filled);
    expect(fromLayout).toEqual(drawnGraph(escaping.direct));
    expect(fromLayout.nodes[0]).toEqual({ title: 'a', texts: [`a (<x> & 'y' "z" \\)`], fill: '#fc9272', tooltip: 'tip <&"\'>' });
  });

  test('the light XML check refuses what a careless substitution would write', () => {
    expect(() => parseXml(filled.replace('1,689', '1<689'))).toThrow(/not well-formed/);
    expect(() => parseXml(filled.replace('1,689', '1&689'))).toThrow(/not well-formed/);
    expect(() => parseXml(filled.replace('fill="#fc9272"', 'fill=""#fc9272"'))).toThrow(/not well-formed/);
    expect(() => parseXml(filled.replace('</text>', ''))).toThrow(/not well-formed/);
  });

  test('chromium parses both as SVG (strict XML) and sees the same nodes', () => {
    if (!chromium) {
      process.stderr.write('skipping the browser check of the filled graph picture: no chromium installed (Debian: apt-get install chromium)\n');
      return;
    }
    // The page parses each SVG with DOMParser (image/svg+xml: any XML error gives a <parsererror>), and
    // writes what each node shows into the DOM, which --dump-dom prints (URI-encoded, to survive it).
    const page = path.join(tempDir('picture-browser'), 'check.html');
    const svgs = JSON.stringify([filled, direct, escaping.filled]).replace(/</g, '\\u003c');
    fs.writeFileSync(page, `<!DOCTYPE html><html><body><pre id="out">waiting</pre><script>
      const drawn = (svg) => {
        const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
        if (doc.getElementsByTagName('parsererror').length > 0) return { error: doc.getElementsByTagName('parsererror')[0].textContent };
        const nodes = [...doc.querySelectorAll('g.node')].map((g) => ({
          title: g.querySelector('title').textContent,
          texts: [...g.querySelectorAll('text')].map((t) => t.textContent),
          fill: g.querySelector('polygon, ellipse')?.getAttribute('fill') ?? undefined,
          tooltip: g.querySelector('a')?.getAttributeNS('http://www.w3.org/1999/xlink', 'title') ?? undefined,
        })).sort((a, b) => (a.title < b.title ? -1 : 1));
        const edges = [...doc.querySelectorAll('g.edge > title')].map((t) => t.textContent).sort();
        return { nodes, edges };
      };
      document.getElementById('out').textContent = encodeURIComponent(JSON.stringify(${svgs}.map(drawn)));
    </script></body></html>`);
    const dom = browser(['--dump-dom', `file://${page}`]);
    const encoded = /<pre id="out">([^<]*)<\/pre>/.exec(dom)?.[1];
    expect(encoded).toBeDefined();
    const [fromLayout, fromDirect, fromEscaping] = JSON.parse(decodeURIComponent(encoded!)) as Drawn[];
    expect(fromLayout).toEqual(drawnGraph(filled));
    expect(fromDirect).toEqual(fromLayout);
    expect(fromEscaping).toEqual(drawnGraph(escaping.filled));
    console.log(`graph picture in chromium: ${fromLayout.nodes.length} nodes and ${fromLayout.edges.length} edges, the same from the layout and from Graphviz`);
  }, 120_000);
});

describe('layouts kept in the cache folder', () => {
  const full = statusTemplate(datasetDot(FULL), allFresh, foldedId);
  const counts = statusTemplate(datasetDot(ONE_MORE), mixed, foldedId);

  test('one file per structure; a count or status change is filled into the kept layout, without Graphviz', async () => {
    const dir = tempDir('picture-layouts');
    const first = await drawTemplate(full, dir);
    expect(layoutFiles(dir)).toHaveLength(1);
    expect(drawnGraph(first).nodes.find((n) => n.title === 'parse:noisy/*')?.texts).toEqual(['parse:noisy/* (1,690)']);
    const [file] = layoutFiles(dir);
    markLayout(path.join(dir, file));
    const second = await drawTemplate(counts, dir);
    expect(second).toContain('<!-- kept layout -->'); // not laid out again: Graphviz would not write the mark
    expect(drawnGraph(second)).toEqual(drawnGraph(await dotToSvg(fillDot(counts))));
    expect(layoutFiles(dir)).toHaveLength(1);
    // Another structure (a third collection) gets its own file; the first stays.
    const three = statusTemplate(datasetDot({ ...FULL, extra: 18 }), statusesOf({ ...FULL, extra: 18 }), foldedId);
    expect(drawnGraph(await drawTemplate(three, dir)).nodes.map((n) => n.title)).toContain('parse:extra/*');
    expect(layoutFiles(dir)).toHaveLength(2);
    expect(layoutFiles(dir)).toContain(file);
  }, 60_000);

  test('a kept layout serves only its own structure; a damaged one is laid out again and replaced', async () => {
    const dir = tempDir('picture-damaged');
    await drawTemplate(full, dir);
    const file = path.join(dir, layoutFiles(dir)[0]);
    const good = fs.readFileSync(file, 'utf8');
    const other = statusTemplate(datasetDot({ basic: 18 }), statusesOf({ basic: 18 }), foldedId);
    const damaged: [string, string][] = [
      // Another structure's layout under this name (what "svg first, key after" guards against).
      ['another structure', JSON.stringify({ structure: other.structure, svg: await dotToSvg(other.structure) })],
      ['cut short', good.slice(0, good.length / 2)],
      ['a slot lost', (editLayout(file, (svg) => svg.replace('~0~', 'x')), fs.readFileSync(file, 'utf8'))],
      ['empty', ''],
    ];
    for (const [what, text] of damaged) {
      fs.writeFileSync(file, text);
      const svg = await drawTemplate(counts, dir);
      expect([what, drawnGraph(svg)]).toEqual([what, drawnGraph(await dotToSvg(fillDot(counts)))]);
      expect([what, (JSON.parse(fs.readFileSync(file, 'utf8')) as { structure: string }).structure]).toEqual([what, counts.structure]);
    }
  }, 60_000);

  test('the newest 8 layouts are kept', async () => {
    const dir = tempDir('picture-prune');
    const names: string[] = [];
    for (let k = 1; k <= 10; k++) {
      await drawTemplate(statusTemplate(datasetDot({ [`c${k}`]: 2 }), undefined, foldedId), dir);
      const added = layoutFiles(dir).filter((f) => !names.includes(f));
      expect(added).toHaveLength(1);
      names.push(added[0]);
      const old = Date.now() / 1000 - 1000 + k; // mtimes a second apart, oldest first
      fs.utimesSync(path.join(dir, added[0]), old, old);
    }
    expect(layoutFiles(dir)).toEqual(names.slice(2).sort());
  }, 60_000);

  test('without a cache folder nothing is kept, and the picture is the same', async () => {
    expect(drawnGraph(await drawTemplate(counts, undefined))).toEqual(drawnGraph(await dotToSvg(fillDot(counts))));
  }, 60_000);
});

describe('a first run lays its page out on a worker thread', () => {
  test('while it builds; the page is the one drawn without it, and the next runs fill the kept layout', async () => {
    const dir = await smallProject('picture-ahead');
    const first = await mdpipe(['run', '--debug', '--no-progress'], { cwd: dir });
    expectExit(first, 0);
    expect(first.stderr).toContain('graph layouts: {"kept":0,"aheadOnThread":1,"laidOutHere":0}');
    const svg = fs.readFileSync(path.join(dir, 'out', 'graph.svg'), 'utf8');
    // Drawn again with the layout laid out here (no kept layout, no thread: the targets differ).
    fs.rmSync(path.join(dir, '.mdpipe'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
    const here = await mdpipe(['run', '--debug', '--no-progress', 'export:basic', 'export:noisy'], { cwd: dir });
    expectExit(here, 0);
    expect(here.stderr).toContain('graph layouts: {"kept":0,"aheadOnThread":0,"laidOutHere":1}');
    expect(fs.readFileSync(path.join(dir, 'out', 'graph.svg'), 'utf8')).toBe(svg);
    fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
    const kept = await mdpipe(['run', '--debug', '--no-progress'], { cwd: dir });
    expect(kept.stderr).toContain('graph layouts: {"kept":1,"aheadOnThread":0,"laidOutHere":0}');
    expect(fs.readFileSync(path.join(dir, 'out', 'graph.svg'), 'utf8')).toBe(svg);
  }, 120_000);
});
