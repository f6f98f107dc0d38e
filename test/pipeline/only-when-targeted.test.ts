/** `onlyWhenTargeted` tasks (the plots) are left out of a run without targets and built when a target names them. */
import { resolveTargets } from '../../pipeline/select.js';
import { buildTaskGraph } from '../../pipeline/task-graph.js';
import type { TaskDeclaration } from '../../pipeline/task.js';

const task = (id: string, deps: string[], onlyWhenTargeted?: boolean): TaskDeclaration => ({
  id, kind: id.split(':')[0], codeVersion: '1', params: {}, files: [], deps, onlyWhenTargeted, run: () => ({ value: null }),
});

const graph = buildTaskGraph([task('grid:a', []), task('label:a', ['grid:a']), task('plot:a', ['label:a'], true), task('export:a', ['label:a'])]);
const ids = (indices: number[]) => indices.map((i) => graph.ids[i]);

test('no targets: every task but the ones built only when targeted', () => {
  expect(ids(resolveTargets(graph, [])).sort()).toEqual(['export:a', 'grid:a', 'label:a']);
});

test('a target or glob naming it selects it', () => {
  expect(ids(resolveTargets(graph, ['plot:*']))).toEqual(['plot:a']);
  expect(ids(resolveTargets(graph, ['*:a'])).sort()).toEqual(['export:a', 'grid:a', 'label:a', 'plot:a']);
});
