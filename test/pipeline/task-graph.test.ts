/**
 * Graph building, discovery, target selection and the graph renderers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipeline, summarizeSkipped } from '../../pipeline/discover.js';
import { CycleError, DuplicateTaskError, InvalidTaskError, PipelineError, UnknownDependencyError, UnknownTargetError } from '../../pipeline/errors.js';
import { renderGraph } from '../../pipeline/graph-render.js';
import { idGlobToRegExp, matchIds } from '../../pipeline/id-glob.js';
import { resolveTargets, upstreamClosure } from '../../pipeline/select.js';
import { buildTaskGraph } from '../../pipeline/task-graph.js';
import type { TaskDeclaration } from '../../pipeline/task.js';
import { CallCounter, DEFAULT_LAYOUT, rigDefinition, writeTree } from '../helpers/engine-rig.js';

const task = (id: string, deps: string[] = [], extra: Partial<TaskDeclaration> = {}): TaskDeclaration => ({
  id,
  kind: id.split(':')[0],
  codeVersion: '1',
  params: {},
  files: [],
  deps,
  run: () => ({ value: null }),
  ...extra,
});

describe('buildTaskGraph', () => {
  it('orders tasks upstream first and expands dependency globs to sorted ids', () => {
    const graph = buildTaskGraph([task('grid:a', ['parse:a/*']), task('parse:a/2'), task('parse:a/1'), task('parse:b/1')]);
    const grid = graph.indexOf('grid:a')!;
    expect(graph.deps[grid].map((d) => graph.ids[d])).toEqual(['parse:a/1', 'parse:a/2']);
    const position = (id: string) => graph.order.indexOf(graph.indexOf(id)!);
    expect(position('grid:a')).toBeGreaterThan(position('parse:a/1'));
    expect(position('grid:a')).toBeGreaterThan(position('parse:a/2'));
    expect(graph.graph.order).toBe(4);
    expect(graph.graph.size).toBe(2);
  });

  it('names the cycle in order, a -> b -> c -> a', () => {
    const build = () => buildTaskGraph([task('a:x', ['c:x']), task('b:x', ['a:x']), task('c:x', ['b:x']), task('d:x', ['a:x'])]);
    expect(build).toThrow(CycleError);
    try {
      build();
    } catch (error) {
      const cycle = (error as CycleError).cycle;
      expect(cycle).toHaveLength(4);
      expect(cycle[0]).toBe(cycle[3]);
      // each feeds the next: a feeds b, b feeds c, c feeds a
      const feeds = new Map([['a:x', 'b:x'], ['b:x', 'c:x'], ['c:x', 'a:x']]);
      for (let k = 0; k < 3; k++) expect(feeds.get(cycle[k])).toBe(cycle[k + 1]);
      expect((error as Error).message).toContain(cycle.join(' -> '));
      expect((error as PipelineError).category).toBe('config');
    }
  });

  it('rejects a self-dependency as a cycle', () => {
    expect(() => buildTaskGraph([task('a:x', ['a:x'])])).toThrow('a:x -> a:x');
  });

  it('names both tasks of an unknown dependency and suggests close ids', () => {
    expect(() => buildTaskGraph([task('grid:basic', ['parse:basic/p1']), task('parse:basic/p2')])).toThrow(UnknownDependencyError);
    expect(() => buildTaskGraph([task('grid:basic', ['parse:basic/p1']), task('parse:basic/p2')])).toThrow(
      /task grid:basic depends on parse:basic\/p1, which is not a task\. Did you mean: parse:basic\/p2\?/,
    );
    expect(() => buildTaskGraph([task('grid:noisy', ['parse:noisy/*'])])).toThrow(/grid:noisy depends on parse:noisy\/\*, which matches no task/);
  });

  it('rejects duplicate ids and malformed declarations with the task named', () => {
    expect(() => buildTaskGraph([task('a:x'), task('a:x')])).toThrow(DuplicateTaskError);
    expect(() => buildTaskGraph([task('a x:y')])).toThrow(InvalidTaskError);
    expect(() => buildTaskGraph([task('grid:a', [], { kind: 'parse' })])).toThrow(/must start with its kind/);
    expect(() => buildTaskGraph([task('a:x', [], { params: { t: NaN } })])).toThrow(/params\.t is NaN/);
    expect(() => buildTaskGraph([task('a:x', [], { params: { m: new Map() as never } })])).toThrow(/params\.m is a Map/);
    expect(() => buildTaskGraph([task('a:x', [], { files: [{ name: 'f', path: 'relative/f' }] })])).toThrow(/absolute path/);
    expect(() =>
      buildTaskGraph([task('a:x', [], { files: [{ name: 'f', path: '/a' }, { name: 'f', path: '/b' }] })]),
    ).toThrow(/two file inputs are named "f"/);
  });

  it('builds and orders a 3,380-partition graph', () => {
    const tasks: TaskDeclaration[] = [];
    for (const c of ['basic', 'noisy']) {
      for (let k = 0; k < 1690; k++) tasks.push(task(`parse:${c}/${k}`));
      tasks.push(task(`grid:${c}`, [`parse:${c}/*`]));
    }
    const graph = buildTaskGraph(tasks);
    expect(graph.tasks).toHaveLength(3382);
    expect(graph.deps[graph.indexOf('grid:noisy')!]).toHaveLength(1690);
  });
});

describe('id globs and targets', () => {
  const ids = ['parse:basic/a', 'parse:noisy/a', 'grid:basic', 'grid:noisy', 'export:basic'];

  it('* stays within a segment, ** crosses it', () => {
    expect(matchIds('parse:noisy/*', ids)).toEqual(['parse:noisy/a']);
    expect(matchIds('*:basic', ids)).toEqual(['grid:basic', 'export:basic']);
    expect(matchIds('grid:*', ids)).toEqual(['grid:basic', 'grid:noisy']);
    expect(matchIds('**', ids)).toEqual(ids);
    expect(matchIds('parse:*', ids)).toEqual([]);
    expect(idGlobToRegExp('a.b:(c)?').test('a.b:(c)x')).toBe(true);
    expect(idGlobToRegExp('a.b:(c)?').test('aXb:(c)x')).toBe(false);
  });

  it('selects targets and their upstream closure', () => {
    const graph = buildTaskGraph([task('parse:basic/a'), task('parse:noisy/a'), task('grid:basic', ['parse:basic/*']), task('grid:noisy', ['parse:noisy/*'])]);
    const roots = resolveTargets(graph, ['grid:basic']);
    const closure = upstreamClosure(graph, roots);
    expect(graph.ids.filter((_, i) => closure[i])).toEqual(['parse:basic/a', 'grid:basic']);
    expect(resolveTargets(graph, [])).toHaveLength(4);
    expect(() => resolveTargets(graph, ['grid:basik'])).toThrow(UnknownTargetError);
    try {
      resolveTargets(graph, ['grid:basik']);
    } catch (error) {
      expect((error as UnknownTargetError).suggestions).toContain('grid:basic');
      expect((error as PipelineError).category).toBe('usage');
    }
  });
});

describe('discovery', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mdpipe-discover-'));
    writeTree(root, DEFAULT_LAYOUT);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('globs each partitioned kind once and reports declined matches', async () => {
    const loaded = await loadPipeline(rigDefinition(root, new CallCounter()));
    expect(loaded.counts).toEqual({ parse: 7, grid: 2, export: 2, summary: 1 });
    expect(loaded.skipped).toEqual([
      { kind: 'parse', match: 'basic/skip_me', reason: 'outside the configured axes' },
      { kind: 'parse', match: 'noisy/skip_me', reason: 'outside the configured axes' },
    ]);
    expect(loaded.graph.partitioned.filter(Boolean)).toHaveLength(7);
  });

  it('summarises skipped matches by kind and reason with a few examples', () => {
    const skipped = Array.from({ length: 10 }, (_, k) => ({ kind: 'parse', match: `bs_${k}`, reason: 'bs not in axes' }));
    expect(summarizeSkipped([...skipped, { kind: 'parse', match: 'w_1', reason: 'width not in axes' }])).toEqual([
      { kind: 'parse', reason: 'bs not in axes', count: 10, examples: ['bs_0', 'bs_1', 'bs_2'] },
      { kind: 'parse', reason: 'width not in axes', count: 1, examples: ['w_1'] },
    ]);
  });

  it('a missing discovery root is a configuration error naming the path', async () => {
    const definition = rigDefinition(root, new CallCounter());
    definition.partitioned[0].discover.cwd = join(root, 'nowhere');
    await expect(loadPipeline(definition)).rejects.toThrow(`the discovery root of parse tasks does not exist: ${join(root, 'nowhere')}`);
  });
});

describe('graph renderers', () => {
  const tasks: TaskDeclaration[] = [];
  const partitions = new Set<string>();
  for (const c of ['basic', 'noisy']) {
    for (let k = 0; k < 1690; k++) {
      tasks.push(task(`parse:${c}/p${k}`));
      partitions.add(`parse:${c}/p${k}`);
    }
    tasks.push(task(`grid:${c}`, [`parse:${c}/*`]), task(`export:${c}`, [`grid:${c}`]));
  }
  const graph = buildTaskGraph(tasks, partitions);

  it('text folds partitions into groups with counts', () => {
    expect(renderGraph(graph, 'text')).toBe(
      [
        'parse:basic/* (1,690)',
        'parse:noisy/* (1,690)',
        'grid:basic             <- parse:basic/*',
        'grid:noisy             <- parse:noisy/*',
        'export:basic           <- grid:basic',
        'export:noisy           <- grid:noisy',
        '',
      ].join('\n'),
    );
  });

  it('dot and mermaid draw the kind graph', () => {
    const dot = renderGraph(graph, 'dot');
    expect(dot).toMatch(/^digraph mdpipe \{/);
    expect(dot).toContain('"parse:basic/*" [label="parse:basic/* (1,690)", shape=box3d];');
    expect(dot).toContain('"parse:basic/*" -> "grid:basic";');
    expect(dot.split('\n').filter((l) => l.includes('->'))).toHaveLength(4);
    const mermaid = renderGraph(graph, 'mermaid');
    expect(mermaid).toMatch(/^flowchart LR\n/);
    expect(mermaid).toContain('n0["parse:basic/* (1,690)"]');
    expect(mermaid.split('\n').filter((l) => l.includes('-->'))).toHaveLength(4);
  });

  it('json lists every node and edge', () => {
    const json = JSON.parse(renderGraph(graph, 'json')) as { nodes: { id: string; kind: string }[]; edges: { source: string; target: string }[] };
    expect(json.nodes).toHaveLength(3384);
    expect(json.edges).toHaveLength(3382);
    expect(json.nodes[0]).toEqual({ id: expect.any(String), kind: expect.any(String) });
    expect(json.edges).toContainEqual({ source: 'parse:noisy/p7', target: 'grid:noisy' });
    expect(Object.keys(json).sort()).toEqual(['edges', 'nodes']);
  });

  it('a full graph over the node cap falls back to the kind graph with a hint', () => {
    const text = renderGraph(graph, 'text', { full: true });
    expect(text.split('\n')[0]).toMatch(/^# the full graph has 3,384 tasks, over the limit of 500/);
    expect(text).toContain('parse:basic/* (1,690)');
    const full = renderGraph(graph, 'text', { full: true, maxNodes: 10_000 });
    expect(full.split('\n').filter(Boolean)).toHaveLength(3384);
    expect(full).toContain('parse:noisy/p12');
    const subset = renderGraph(graph, 'dot', { full: true, subset: [graph.indexOf('parse:basic/p1')!, graph.indexOf('grid:basic')!] });
    expect(subset).toContain('"parse:basic/p1" -> "grid:basic";');
  });
});
