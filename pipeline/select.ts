/**
 * Target selection: command-line targets (ids or id globs such as `parse:noisy/*`, `*:basic`, `grid:*`)
 * to task indices, and the upstream closure a run must consider.
 */
import { UnknownTargetError } from './errors.js';
import { isIdGlob, matchIds } from './id-glob.js';
import { closeMatches } from '../util/suggest.js';
import type { TaskGraph } from './task-graph.js';
import { foldedId } from './graph-fold.js';

/**
 * Task indices named by `targets` (when `targets` is empty, every task but those declared
 * `onlyWhenTargeted`).
 * @throws UnknownTargetError (a usage error) listing close matches when a target matches nothing
 */
export function resolveTargets(graph: TaskGraph, targets: readonly string[]): number[] {
  if (targets.length === 0) return graph.order.filter((i) => !graph.tasks[i].onlyWhenTargeted);
  const chosen = new Set<number>();
  for (const target of targets) {
    const ids = isIdGlob(target) ? matchIds(target, graph.ids) : graph.indexOf(target) === undefined ? [] : [target];
    if (ids.length === 0) {
      const groups = [...new Set(graph.ids.map((id, i) => (graph.partitioned[i] ? foldedId(id) : id)))];
      // A glob that matches nothing usually meant to reach into partitions (`parse:*` for `parse:basic/*`).
      const wider = isIdGlob(target) ? matchIds(target.replace(/\*+/g, '**'), groups).slice(0, 5) : [];
      throw new UnknownTargetError(target, wider.length > 0 ? wider : closeMatches(target, groups));
    }
    for (const id of ids) chosen.add(graph.indexOf(id)!);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Marks the given tasks and everything upstream of them. */
export function upstreamClosure(graph: TaskGraph, roots: readonly number[]): Uint8Array {
  const selected = new Uint8Array(graph.tasks.length);
  const stack = [...roots];
  for (const r of roots) selected[r] = 1;
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const dep of graph.deps[node]) {
      if (selected[dep] === 0) {
        selected[dep] = 1;
        stack.push(dep);
      }
    }
  }
  return selected;
}
