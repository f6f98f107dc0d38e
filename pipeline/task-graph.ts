/**
 * The task graph: resolved task declarations, their dependency edges, and a topological order.
 *
 * Builds a graphology `DirectedGraph` (edges run upstream → downstream) for checks and rendering, and
 * keeps index arrays (`deps`, `dependents`, `order`) for the scheduler's hot loops, where a Map lookup
 * per edge would cost more than the work. It validates declarations, expands dependency globs
 * (`parse:basic/*`) to sorted ids, and rejects unknown dependencies and cycles with messages naming
 * the tasks involved.
 *
 * It does not discover partitions (`discover.ts`), hash anything, or know what a task computes.
 */
import { createRequire } from 'node:module';
import type { DirectedGraph } from 'graphology';
import { CycleError, DuplicateTaskError, InvalidTaskError, UnknownDependencyError } from './errors.js';
import { isIdGlob, matchIds } from './id-glob.js';
import { jsonProblem } from '../util/json.js';
import { closeMatches } from '../util/suggest.js';
import type { TaskDeclaration } from './task.js';

export interface TaskGraph {
  /** Tasks by index; indices are stable for the life of the graph. */
  readonly tasks: readonly TaskDeclaration[];
  readonly ids: readonly string[];
  /** Upstream task indices of each task (sorted by id, glob deps expanded). */
  readonly deps: readonly (readonly number[])[];
  /** Downstream task indices of each task. */
  readonly dependents: readonly (readonly number[])[];
  /** All task indices, upstream before downstream. */
  readonly order: readonly number[];
  /** Whether each task came from a partitioned kind (the graph renderer folds those). */
  readonly partitioned: readonly boolean[];
  /**
   * The same graph as graphology nodes (`{kind}` attribute) and upstream → downstream edges, built on
   * first use: the scheduler works on the index arrays, and a run never needs it.
   */
  readonly graph: DirectedGraph;
  indexOf(id: string): number | undefined;
}

/**
 * An absolute path: `/…` or, on Windows, `C:\…` or `\\server\…`. A test on the first characters rather than
 * `path.isAbsolute`, which normalises first and cost 40 ms over 20,000 inputs in a no-op's profile.
 */
const WINDOWS_ABSOLUTE = process.platform === 'win32' ? /^(?:[A-Za-z]:[\\/]|[\\/]{2})/ : /^$/;

/** Id grammar: `KIND:COLLECTION` or `KIND:COLLECTION/PARTITION`, no glob characters or spaces. */
const ID_PATTERN = /^[^\s:*?]+:[^\s*?]+$/;

/**
 * Validates the declarations and builds the graph.
 * @param partitionedIds ids that came from a partitioned kind (folded by the kind graph).
 * @throws InvalidTaskError, DuplicateTaskError, UnknownDependencyError, CycleError
 */
export function buildTaskGraph(tasks: readonly TaskDeclaration[], partitionedIds: ReadonlySet<string> = new Set()): TaskGraph {
  const index = new Map<string, number>();
  tasks.forEach((task, i) => {
    validateTask(task);
    const previous = index.get(task.id);
    if (previous !== undefined) {
      throw new DuplicateTaskError(task.id, [sourceOf(tasks[previous], partitionedIds), sourceOf(task, partitionedIds)]);
    }
    index.set(task.id, i);
  });

  const ids = tasks.map((task) => task.id);
  const sortedIds = [...ids].sort();
  const globCache = new Map<string, number[]>();
  const deps: number[][] = tasks.map((task, i) => {
    const resolved = new Set<number>();
    for (const dep of task.deps) {
      let matches: number[] | undefined;
      if (isIdGlob(dep)) {
        matches = globCache.get(dep);
        if (!matches) {
          matches = matchIds(dep, sortedIds).map((id) => index.get(id)!);
          globCache.set(dep, matches);
        }
        matches = matches.filter((m) => m !== i);
      } else {
        const found = index.get(dep);
        matches = found === undefined ? [] : [found];
      }
      if (matches.length === 0) throw unknownDependency(task.id, dep, sortedIds);
      for (const m of matches) resolved.add(m);
    }
    return [...resolved].sort((a, b) => (ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : 0));
  });

  const dependents: number[][] = tasks.map(() => []);
  deps.forEach((upstream, i) => {
    for (const u of upstream) dependents[u].push(i);
  });

  const order = topologicalOrder(deps, dependents);
  if (order.length < tasks.length) throw new CycleError(findCycle(deps, ids));

  let graph: DirectedGraph | undefined;
  return {
    tasks,
    ids,
    deps,
    dependents,
    order,
    partitioned: ids.map((id) => partitionedIds.has(id)),
    get graph(): DirectedGraph {
      graph ??= toGraphology(tasks, deps);
      return graph;
    },
    indexOf: (id) => index.get(id),
  };
}

/**
 * Kahn's algorithm over the index arrays, in the order graphology-dag's `topologicalSort` gives on the
 * equivalent graph (ready tasks first-in first-out, starting in declaration order). Fewer tasks than the
 * graph has means a cycle. Hand-written because the arrays are already there: building a graphology graph
 * of 3,400 nodes just to sort it (and loading graphology and graphology-dag) was a tenth of a no-op's
 * start-up.
 */
function topologicalOrder(deps: readonly (readonly number[])[], dependents: readonly (readonly number[])[]): number[] {
  const waiting = new Int32Array(deps.length);
  const order: number[] = [];
  for (let i = 0; i < deps.length; i++) {
    waiting[i] = deps[i].length;
    if (waiting[i] === 0) order.push(i);
  }
  for (let head = 0; head < order.length; head++) {
    for (const next of dependents[order[head]]) if (--waiting[next] === 0) order.push(next);
  }
  return order;
}

/** The graphology graph (loaded synchronously on first use, through its CommonJS build). */
function toGraphology(tasks: readonly TaskDeclaration[], deps: readonly (readonly number[])[]): DirectedGraph {
  const { DirectedGraph: Graph } = createRequire(import.meta.url)('graphology') as typeof import('graphology');
  const graph = new Graph();
  tasks.forEach((task) => graph.addNode(task.id, { kind: task.kind }));
  deps.forEach((upstream, i) => {
    for (const u of upstream) graph.addDirectedEdge(tasks[u].id, tasks[i].id);
  });
  return graph;
}

function sourceOf(task: TaskDeclaration, partitionedIds: ReadonlySet<string>): string {
  return partitionedIds.has(task.id) ? `a discovered ${task.kind} partition` : `a declared ${task.kind} task`;
}

function unknownDependency(task: string, dep: string, sortedIds: readonly string[]): UnknownDependencyError {
  const close = closeMatches(dep, sortedIds);
  const hint = isIdGlob(dep)
    ? 'If these are partitions, check the discovery pattern and root of their kind (skipped matches are reported).'
    : close.length > 0
      ? `Did you mean: ${close.join(', ')}?`
      : 'Declare that task or remove the dependency.';
  return new UnknownDependencyError(task, dep, hint);
}

/** One cycle as ids (first repeated last), by depth-first search over the dependency arrays. */
function findCycle(deps: readonly (readonly number[])[], ids: readonly string[]): string[] {
  const state = new Uint8Array(deps.length); // 0 new, 1 on the stack, 2 done
  const stack: number[] = [];
  const visit = (node: number): number[] | undefined => {
    state[node] = 1;
    stack.push(node);
    for (const next of deps[node]) {
      if (state[next] === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (state[next] === 0) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state[node] = 2;
    return undefined;
  };
  for (let i = 0; i < deps.length; i++) {
    if (state[i] !== 0) continue;
    const cycle = visit(i);
    // deps point upstream, so the found path runs against the data flow; reverse it to read "a -> b".
    if (cycle) return cycle.reverse().map((n) => ids[n]);
  }
  return [];
}

function validateTask(task: TaskDeclaration): void {
  const id = typeof task?.id === 'string' ? task.id : String(task?.id);
  if (!ID_PATTERN.test(id)) {
    throw new InvalidTaskError(id, 'the id must look like KIND:COLLECTION or KIND:COLLECTION/PARTITION, without spaces, * or ?');
  }
  if (typeof task.kind !== 'string' || !id.startsWith(`${task.kind}:`)) {
    throw new InvalidTaskError(id, `the id must start with its kind followed by a colon ("${task.kind}:")`);
  }
  if (typeof task.codeVersion !== 'string' || task.codeVersion === '') {
    throw new InvalidTaskError(id, 'codeVersion must be a non-empty string');
  }
  if (typeof task.run !== 'function') throw new InvalidTaskError(id, 'run must be a function');
  if (!Array.isArray(task.deps) || task.deps.some((d) => typeof d !== 'string')) {
    throw new InvalidTaskError(id, 'deps must be an array of task ids or id globs');
  }
  if (!Array.isArray(task.files)) throw new InvalidTaskError(id, 'files must be an array');
  const names = new Set<string>();
  for (const file of task.files) {
    if (typeof file?.name !== 'string' || file.name === '') throw new InvalidTaskError(id, 'every file input needs a name');
    if (names.has(file.name)) throw new InvalidTaskError(id, `two file inputs are named "${file.name}"`);
    names.add(file.name);
    if (typeof file.path !== 'string' || (file.path[0] !== '/' && !WINDOWS_ABSOLUTE.test(file.path))) {
      throw new InvalidTaskError(id, `file input "${file.name}" needs an absolute path (got ${JSON.stringify(file.path)})`);
    }
  }
  const problem = jsonProblem(task.params, 'params');
  if (problem) throw new InvalidTaskError(id, `${problem}; params must be JSON (they are hashed as canonical JSON)`);
}
