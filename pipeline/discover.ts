/**
 * Discovery: turns a pipeline definition into the task graph.
 *
 * One glob pass per partitioned kind (never one per task), each match offered to the kind's
 * `partition` function; matches it declines are kept as `SkippedMatch`es so they can be reported
 * (count, first examples, reason), never silently dropped. Then the fixed tasks and the partitions go
 * to `buildTaskGraph`, which expands dependency globs and checks the graph.
 */
import { existsSync } from 'node:fs';
import { InvalidTaskError, PipelineError } from './errors.js';
import { fixedDepthSegments, walkGlob } from './glob-walk.js';
import { buildTaskGraph, type TaskGraph } from './task-graph.js';
import type { PipelineDefinition, TaskDeclaration } from './task.js';

/** A glob match its kind's `partition` function declined. */
export interface SkippedMatch {
  kind: string;
  /** The match, relative to the kind's discovery root. */
  match: string;
  reason: string;
}

/** Skipped matches grouped by kind and reason. */
export interface SkippedSummary {
  kind: string;
  reason: string;
  count: number;
  /** The first few matches, sorted. */
  examples: string[];
}

export interface LoadedPipeline {
  graph: TaskGraph;
  skipped: SkippedMatch[];
  /** Number of tasks per kind. */
  counts: Record<string, number>;
}

/** Globs every partitioned kind, builds and checks the task graph. */
export async function loadPipeline(definition: PipelineDefinition): Promise<LoadedPipeline> {
  const tasks: TaskDeclaration[] = [];
  const partitionedIds = new Set<string>();
  const skipped: SkippedMatch[] = [];
  for (const kind of definition.partitioned) {
    const { cwd, pattern, onlyDirectories } = kind.discover;
    if (!existsSync(cwd)) {
      throw new PipelineError(
        'discovery-root-missing',
        'config',
        `the discovery root of ${kind.kind} tasks does not exist: ${cwd}. Point the configuration at the raw data folder.`,
      );
    }
    const matches = await glob(pattern, cwd, onlyDirectories ?? false);
    matches.sort();
    for (const match of matches) {
      let outcome: TaskDeclaration | { skip: string };
      try {
        outcome = kind.partition(match);
      } catch (error) {
        throw new InvalidTaskError(`${kind.kind}:?`, `partition() failed on ${match} (under ${cwd}): ${(error as Error).message}`);
      }
      if ('skip' in outcome) skipped.push({ kind: kind.name ?? kind.kind, match, reason: outcome.skip });
      else {
        tasks.push(outcome);
        partitionedIds.add(outcome.id);
      }
    }
  }
  // Fixed tasks come after discovery: a definition may declare them from what was found.
  const fixed = typeof definition.tasks === 'function' ? definition.tasks({ partitions: [...partitionedIds].sort() }) : definition.tasks;
  tasks.push(...fixed);
  const graph = buildTaskGraph(tasks, partitionedIds);
  const counts: Record<string, number> = {};
  for (const task of tasks) counts[task.kind] = (counts[task.kind] ?? 0) + 1;
  return { graph, skipped, counts };
}

/**
 * One discovery glob: a fixed-depth pattern is walked segment by segment (`glob-walk.ts`: several times
 * faster than fast-glob on the dataset's layout); anything else (`**`) goes to fast-glob, loaded only then.
 */
async function glob(pattern: string, cwd: string, onlyDirectories: boolean): Promise<string[]> {
  const segments = fixedDepthSegments(pattern);
  if (segments) return walkGlob(segments, { cwd, onlyDirectories });
  const { default: fg } = await import('fast-glob');
  return fg(pattern, { cwd, onlyDirectories, onlyFiles: !onlyDirectories, dot: false, unique: true });
}

/** Groups skipped matches by kind and reason, with the first `examples` matches of each. */
export function summarizeSkipped(skipped: readonly SkippedMatch[], examples = 3): SkippedSummary[] {
  const groups = new Map<string, SkippedSummary>();
  for (const s of skipped) {
    const key = `${s.kind}\u0000${s.reason}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: s.kind, reason: s.reason, count: 0, examples: [] };
      groups.set(key, group);
    }
    group.count++;
    if (group.examples.length < examples) group.examples.push(s.match);
  }
  return [...groups.values()];
}
