/**
 * The Model Diagnosis Dataset as a pipeline definition: for each configured collection,
 * `parse:C/*` (raw) -> `grid:C` -> `rfi:C` -> `label:C` -> `export:C`; a published collection reads its
 * grid file in place of parse + grid. `plot:C` (after grid and label) only when targeted or `"plots": true`.
 */
import type { Collection, ResolvedConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import type { DictionaryOptions } from '../dataset/dictionary.js';
import type { PipelineDefinition, TaskDeclaration } from '../pipeline/task.js';
import { exportTask } from './export.js';
import { publishedGridTask, rawGridTask } from './grid.js';
import { labelTask } from './label.js';
import { plotTask } from './plot.js';
import { parseKind, type OutsideFolder } from './parse.js';
import { rfiTask } from './rfi.js';

export { KINDS, parseId, taskId } from './ids.js';

export function defineDataset(config: ResolvedConfig): PipelineDefinition {
  const outside = new Map<string, OutsideFolder[]>();
  const partitioned = config.collections.flatMap((c) => {
    if (c.kind !== 'raw') return [];
    const list: OutsideFolder[] = [];
    outside.set(c.name, list);
    return [parseKind(c, list)];
  });
  return {
    partitioned,
    tasks: ({ partitions }) => {
      for (const c of config.collections) {
        if (c.kind === 'raw' && !partitions.some((id) => id.startsWith(`parse:${c.name}/`))) {
          const error = noCheckpointsError(c, outside.get(c.name)!.length);
          // Name the file the key is in, as the loader's own errors do.
          throw config.file ? error.inFile(config.file) : error;
        }
      }
      return config.collections.flatMap((c) => [...collectionTasks(c, outside.get(c.name) ?? []), plotTask(c.name, { always: config.plots })]);
    },
  };
}

function collectionTasks(c: Collection, outside: OutsideFolder[]): TaskDeclaration[] {
  const dictionary: DictionaryOptions = { noise: c.noise };
  return [
    c.kind === 'raw' ? rawGridTask(c, outside) : publishedGridTask(c),
    rfiTask(c.name),
    labelTask(c.name),
    exportTask(c.name, dictionary),
  ];
}

function noCheckpointsError(c: Extract<Collection, { kind: 'raw' }>, outsideCount: number): ConfigError {
  const key = `collections.${c.name}`;
  if (outsideCount > 0) {
    return new ConfigError(`${key}.axes`, `none of the ${outsideCount} checkpoint folders under ${c.root} is on the configured axes`, `fix ${key}.axes (or remove it to discover the axes from the tree)`);
  }
  return new ConfigError(
    `${key}.layout`,
    `no checkpoint folder under ${c.root} matches the layout "${c.layout.template}" (glob ${c.layout.glob})`,
    `check ${key}.raw and ${key}.layout against a real folder path (the method folder, "normal" or "lr_decay", is part of the layout)`,
  );
}
