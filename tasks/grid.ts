/**
 * `grid:C`: the 3-D grid of every metric over the collection's axes, from the collection's parse tasks
 * (raw collections) or from a published grid `.npy` (published collections), with the coverage the
 * report needs (dataset/raw-grid.ts, dataset/coverage.ts).
 */
import type { PublishedCollection, RawCollection } from '../config/load.js';
import type { ConfigurationKey } from '../dataset/grid.js';
import type { GridOutput, RawGridOutput } from '../dataset/raw-grid.js';
import type { TaskDeclaration } from '../pipeline/index.js';
import { allParses, parseIdCoords, read, taskId, type TaskRef } from './ids.js';
import { lazy } from './lazy.js';
import type { OutsideFolder } from '../dataset/outside-axes.js';
import type { ParsedCheckpoint } from './parse.js';

const rawGridCode = lazy(() => import('../dataset/raw-grid.js'));
const publishedGridCode = lazy(async () => ({ ...(await import('../dataset/published-grid.js')), ...(await import('../dataset/coverage.js')) }));

/** 3: report lists sorted by code units, not by the machine's locale. 4: the raw grid's value keeps per-cell flags. */
export const GRID_CODE_VERSION = '4';

export function rawGridTask(collection: RawCollection, outside: readonly OutsideFolder[]): TaskDeclaration {
  return {
    id: taskId('grid', collection.name),
    kind: 'grid',
    codeVersion: GRID_CODE_VERSION,
    params: {
      axes: {
        bs: collection.axes.bs ?? 'discover',
        width: collection.axes.width ?? 'discover',
        data: collection.axes.data ?? 'discover',
      },
      // Folders outside the axes change the report, so they are part of the key.
      outsideAxes: outside.map((o) => o.folder).sort(),
    },
    files: [],
    deps: [allParses(collection.name)],
    description: `grid of every metric over ${collection.name}'s axes`,
    // With a previous grid, only the changed checkpoints' parse outputs are read (and decoded).
    incremental: true,
    async run(ctx) {
      const { buildRawGrid, patchRawGrid } = await rawGridCode();
      const previous = ctx.previous;
      const removed = [...(previous?.removed ?? [])].map((id) => parseIdCoords(collection.name, id));
      if (previous !== null && !removed.includes(null)) {
        const changed = [...previous.changed].map((id) => read(ctx, id as TaskRef<ParsedCheckpoint>));
        const patched = patchRawGrid(previous.value as RawGridOutput, collection.axes, changed, removed as ConfigurationKey[], outside);
        if (patched !== null) return { value: patched satisfies GridOutput };
      }
      const parsed = [...ctx.upstream.values()] as ParsedCheckpoint[];
      return { value: buildRawGrid(collection.axes, parsed, outside) satisfies GridOutput };
    },
  };
}

export function publishedGridTask(collection: PublishedCollection): TaskDeclaration {
  return {
    id: taskId('grid', collection.name),
    kind: 'grid',
    codeVersion: GRID_CODE_VERSION,
    params: {},
    files: [{ name: 'grid.npy', path: collection.grid }],
    deps: [],
    description: `published grid ${collection.grid}`,
    async run(ctx) {
      const { readPublishedGrid, publishedCoverage } = await publishedGridCode();
      const grid = readPublishedGrid(ctx.files.get('grid.npy')!, collection.grid);
      return { value: { grid, coverage: publishedCoverage(grid) } satisfies GridOutput };
    },
  };
}
