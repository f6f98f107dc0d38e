/**
 * Task ids of the dataset pipeline: `KIND:COLLECTION` for per-collection tasks and
 * `parse:COLLECTION/PARTITION` for checkpoint folders, the partition named `bs16-w2-d10` (grid axis order),
 * so `parse:basic/*` selects a collection's folders and `parse:basic/bs16-*` one batch size.
 *
 * The per-collection ids are typed by their task's value (`TaskRef`), so a task reads its upstream with
 * `read(ctx, ref)` and no cast of its own.
 */
import type { CheckpointCoords } from '../config/layout.js';
import { configurationName, type ConfigurationKey } from '../dataset/grid.js';
import type { LabelOutput } from '../dataset/labels.js';
import type { GridOutput } from '../dataset/raw-grid.js';
import type { RfiOutput } from '../dataset/rfi.js';
import type { TaskContext } from '../pipeline/index.js';

export const KINDS = ['parse', 'grid', 'rfi', 'label', 'export', 'plot'] as const;
export type Kind = (typeof KINDS)[number];

export const taskId = (kind: Exclude<Kind, 'parse'>, collection: string): string => `${kind}:${collection}`;

export const partitionName = (c: CheckpointCoords): string => configurationName(c);

/** What every parse task id of a collection starts with. */
export const parsePrefix = (collection: string): string => `parse:${collection}/`;

export const parseId = (collection: string, c: CheckpointCoords): string => parsePrefix(collection) + partitionName(c);

/** Every parse task of a collection, as a dependency glob. */
export const allParses = (collection: string): string => `${parsePrefix(collection)}*`;

/** The configuration a parse task id of `collection` names (`parse:basic/bs16-w2-d10`); null if it names none. */
export function parseIdCoords(collection: string, id: string): ConfigurationKey | null {
  const prefix = parsePrefix(collection);
  if (!id.startsWith(prefix)) return null;
  const m = /^bs([0-9]+)-w([0-9]+)-d([0-9]+)$/.exec(id.slice(prefix.length));
  return m ? { bs: Number(m[1]), width: Number(m[2]), data: m[3] } : null;
}

/** A task id that carries the type of the task's value. */
export type TaskRef<T> = string & { readonly __value?: T };

const ref = <T>(id: string): TaskRef<T> => id as TaskRef<T>;

/** The per-collection tasks' ids, typed by their values. */
export const refs = {
  grid: (collection: string) => ref<GridOutput>(taskId('grid', collection)),
  rfi: (collection: string) => ref<RfiOutput>(taskId('rfi', collection)),
  label: (collection: string) => ref<LabelOutput>(taskId('label', collection)),
};

/**
 * The decoded value of an upstream task: the one place the dataset tasks cast an upstream value, checked
 * against the task's declared dependencies.
 * @throws Error when `ref` is not among the task's dependencies (a declaration bug)
 */
export function read<T>(ctx: TaskContext, ref: TaskRef<T>): T {
  if (!ctx.upstream.has(ref)) throw new Error(`${ctx.id} reads ${ref}, which is not among its dependencies`);
  return ctx.upstream.get(ref) as T;
}
