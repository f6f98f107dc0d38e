/**
 * The check every unpickled value passes before it is returned: nesting within `maxDepth`, no cycles, no
 * unresolved internals, and at most `maxElements` elements as a consumer walking it would meet them.
 *
 * Why a separate pass: the reader builds values iteratively, so depth costs it nothing, but consumers walk
 * results recursively (JSON, hashing, the dataset code). A pickle can also share one container many times
 * through its memo, or make it contain itself; a naive walk of `[a, a]` where `a = [b, b]` ... doubles per
 * level, so a small file could describe an astronomically large tree. Both walks here are iterative; the
 * shared-aware one memoises each container once, so its cost is linear in the file.
 */
import type { FormatErrorReason } from '../errors.js';
import type { ReadLimits } from '../limits.js';
import { NpArray, NpDtype, NpScalar, PyTuple, type PyValue } from '../values.js';

export interface StructureProblem {
  reason: FormatErrorReason;
  detail: string;
  limit?: keyof ReadLimits;
}

/** Children of a container value that are themselves objects, or null for leaves. */
function childrenOf(v: object): readonly unknown[] | Iterable<unknown> | null {
  if (Array.isArray(v)) return v;
  if (v instanceof Map) return v.values();
  if (v instanceof PyTuple) return v.items;
  if (v instanceof NpArray) return Array.isArray(v.data) ? v.data : NO_CHILDREN;
  return null;
}

function sizeOf(v: object): number {
  if (Array.isArray(v)) return v.length;
  if (v instanceof Map) return v.size;
  if (v instanceof PyTuple) return v.items.length;
  if (v instanceof NpArray && Array.isArray(v.data)) return v.data.length;
  return 0;
}

const NO_CHILDREN: readonly unknown[] = [];

/** Objects that may appear in a value without being containers. Anything else is a reader internal. */
function isLeafObject(v: object): boolean {
  return v instanceof NpScalar || v instanceof NpDtype || v instanceof Uint8Array;
}

/**
 * Checks `root`; `mayShare` says whether any container could be referenced twice (the reader knows: only memo
 * gets and DUP create second references). Returns the first problem found, or null.
 */
export function checkStructure(root: PyValue, limits: ReadLimits, mayShare: boolean): StructureProblem | null {
  if (typeof root !== 'object' || root === null) return null;
  return mayShare ? checkShared(root, limits) : checkTree(root, limits);
}

function depthProblem(limits: ReadLimits): StructureProblem {
  return {
    reason: 'limit-exceeded',
    detail: `the value nests containers more than ${limits.maxDepth} levels deep (limit maxDepth = ${limits.maxDepth})`,
    limit: 'maxDepth',
  };
}

function internalProblem(v: object): StructureProblem {
  const what = (v as { qualname?: string }).qualname ?? v.constructor?.name ?? 'object';
  return { reason: 'bad-structure', detail: `the value contains ${what} itself rather than data made with it` };
}

/** Every container is reachable once: a plain iterative walk. */
function checkTree(root: object, limits: ReadLimits): StructureProblem | null {
  const nodes: object[] = [root];
  const depths: number[] = [1];
  // Children are pushed by index or by `forEach`, not through an iterator: this walk runs over every value
  // of every metric file (20,280 per cold build), and the iterators' result objects measured ~30 MB of
  // garbage there.
  let childDepth = 0;
  const push = (c: unknown): void => {
    if (typeof c === 'object' && c !== null) {
      nodes.push(c);
      depths.push(childDepth);
    }
  };
  while (nodes.length > 0) {
    const v = nodes.pop()!;
    const depth = depths.pop()!;
    const children = v instanceof Map ? v : childrenOf(v);
    if (children === null) {
      if (!isLeafObject(v)) return internalProblem(v);
      continue;
    }
    if (depth > limits.maxDepth) return depthProblem(limits);
    childDepth = depth + 1;
    if (children instanceof Map) children.forEach(push);
    else if (Array.isArray(children)) for (let k = 0; k < children.length; k++) push(children[k]);
    else for (const c of children) push(c);
  }
  return null;
}

/**
 * Containers may be shared or cyclic: a post-order walk that computes, once per container, its height and the
 * number of elements beneath it as a naive walk would count them.
 */
function checkShared(root: object, limits: ReadLimits): StructureProblem | null {
  const cycle: StructureProblem = { reason: 'bad-structure', detail: 'the value contains itself (a recursive structure), which plain pickled data never is' };
  /** Container -> slot in `heights`/`weights`; a height of -1 means "on the current path". */
  const slot = new Map<object, number>();
  const heights: number[] = [];
  const weights: number[] = [];
  const stack: object[] = [root];
  const expanded: boolean[] = [false];
  while (stack.length > 0) {
    const v = stack[stack.length - 1];
    const children = childrenOf(v);
    if (children === null) {
      stack.pop();
      expanded.pop();
      if (!isLeafObject(v)) return internalProblem(v);
      continue;
    }
    if (!expanded[expanded.length - 1]) {
      const seen = slot.get(v);
      if (seen !== undefined) {
        stack.pop();
        expanded.pop();
        if (heights[seen] === -1) return cycle;
        continue;
      }
      slot.set(v, heights.length);
      heights.push(-1);
      weights.push(0);
      expanded[expanded.length - 1] = true;
      for (const c of children) {
        if (typeof c !== 'object' || c === null) continue;
        const cs = slot.get(c);
        if (cs === undefined) {
          stack.push(c);
          expanded.push(false);
        } else if (heights[cs] === -1) return cycle;
      }
      continue;
    }
    stack.pop();
    expanded.pop();
    let h = 0;
    let w = sizeOf(v);
    for (const c of childrenOf(v)!) {
      if (typeof c !== 'object' || c === null) continue;
      const cs = slot.get(c);
      if (cs === undefined) continue; // a leaf object
      if (heights[cs] > h) h = heights[cs];
      w += weights[cs];
    }
    h += 1;
    if (h > limits.maxDepth) return depthProblem(limits);
    if (w > limits.maxElements) {
      return {
        reason: 'limit-exceeded',
        detail: `the value holds more than ${limits.maxElements} elements once its shared parts are counted each time they are referenced (limit maxElements = ${limits.maxElements})`,
        limit: 'maxElements',
      };
    }
    const me = slot.get(v)!;
    heights[me] = h;
    weights[me] = w;
  }
  return null;
}
