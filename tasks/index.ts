/**
 * The Model Diagnosis Dataset as a pipeline definition: for each configured collection,
 * `parse:C/*` (raw) -> `grid:C` -> `rfi:C` -> `label:C` -> `export:C`; a published collection reads its
 * grid file in place of parse + grid. `plot:C` (after grid and label) only when targeted or `"plots": true`.
 */
import type { Collection, ResolvedConfig } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { firstCheckpointFolder, metricSubfolder } from '../dataset/checkpoint-folder.js';
import { METRIC_FILES } from '../dataset/metrics.js';
import type { DictionaryOptions } from '../dataset/dictionary.js';
import type { PipelineDefinition, TaskDeclaration } from '../pipeline/index.js';
import { exportTask } from './export.js';
import { publishedGridTask, rawGridTask } from './grid.js';
import { labelTask } from './label.js';
import { parsePrefix } from './ids.js';
import { plotTask } from './plot.js';
import type { OutsideFolder } from '../dataset/outside-axes.js';
import { parseKind } from './parse.js';
import { rfiTask } from './rfi.js';

export { KINDS, parseId, taskId } from './ids.js';

export function defineDataset(config: ResolvedConfig): PipelineDefinition {
  const outside = new Map<string, OutsideFolder[]>();
  const folders = new Map<string, string[]>();
  const partitioned = config.collections.flatMap((c) => {
    if (c.kind !== 'raw') return [];
    const list: OutsideFolder[] = [];
    const found: string[] = [];
    outside.set(c.name, list);
    folders.set(c.name, found);
    return [parseKind(c, list, found)];
  });
  return {
    partitioned,
    tasks: ({ partitions }) => {
      for (const c of config.collections) {
        if (c.kind === 'raw' && !partitions.some((id) => id.startsWith(parsePrefix(c.name)))) {
          const error = noCheckpointsError(c, outside.get(c.name)!.length);
          // Name the file the key is in, as the loader's own errors do.
          throw config.file ? error.inFile(config.file) : error;
        }
        // A layout one level too short matches folders that hold no metric file: building on them would
        // publish an all-NaN dataset over the good one. Checked before anything runs (so nothing is
        // replaced), at the cost of one readdir per collection when the first folder is a checkpoint.
        const found = folders.get(c.name);
        if (c.kind === 'raw' && found && found.length > 0 && firstCheckpointFolder(found) === undefined) {
          const error = noMetricFilesError(c, found);
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

function noMetricFilesError(c: Extract<Collection, { kind: 'raw' }>, folders: readonly string[]): ConfigError {
  const key = `collections.${c.name}.layout`;
  const example = folders[0];
  const sub = metricSubfolder(example);
  const problem = `none of the ${folders.length} folder${folders.length === 1 ? '' : 's'} the layout "${c.layout.template}" matches under ${c.root} holds any of the metric files (${METRIC_FILES.join(', ')}), e.g. ${example}`;
  const fix = sub
    ? `the files are in a sub-folder: set ${key} to "${c.layout.template}/${sub}" (found in ${example}/${sub})`
    : `point ${key} at the folders that hold the metric files (a checkpoint folder holds e.g. ${METRIC_FILES[0]})`;
  return new ConfigError(key, problem, fix);
}
