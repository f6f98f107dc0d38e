/**
 * Task ids of the dataset pipeline: `KIND:COLLECTION` for per-collection tasks and
 * `parse:COLLECTION/PARTITION` for checkpoint folders, the partition named `bs16-w2-d10` (grid axis order),
 * so `parse:basic/*` selects a collection's folders and `parse:basic/bs16-*` one batch size.
 */
import type { CheckpointCoords } from '../config/layout.js';

export const KINDS = ['parse', 'grid', 'rfi', 'label', 'export', 'plot'] as const;
export type Kind = (typeof KINDS)[number];

export const taskId = (kind: Exclude<Kind, 'parse'>, collection: string): string => `${kind}:${collection}`;

export const partitionName = (c: CheckpointCoords): string => `bs${c.bs}-w${c.width}-d${c.data}`;

export const parseId = (collection: string, c: CheckpointCoords): string => `parse:${collection}/${partitionName(c)}`;

/** Every parse task of a collection, as a dependency glob. */
export const allParses = (collection: string): string => `parse:${collection}/*`;
