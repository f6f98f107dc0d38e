/**
 * `export:C`: the collection's published files, in `<outDir>/<C>/`: `dataframe.csv`, `dictionary.json`,
 * `grid.npz` and `report.json` (coverage). The engine writes them atomically once the task succeeded.
 */
import type { DictionaryOptions } from '../dataset/dictionary.js';
import type { LabelGrids } from '../dataset/labels.js';
import type { RfiGrids } from '../dataset/rfi.js';
import type { Json, TaskDeclaration } from '../pipeline/task.js';
import type { Coverage, GridOutput } from './grid.js';
import { taskId } from './ids.js';
import { lazy } from './lazy.js';

const writers = lazy(async () => {
  const [dataframe, dictionary, gridNpz] = await Promise.all([
    import('../dataset/dataframe.js'),
    import('../dataset/dictionary.js'),
    import('../dataset/grid-npz.js'),
  ]);
  return { ...dataframe, ...dictionary, ...gridNpz };
});

/**
 * Bump when what an export writes changes. 2: grid.npz stored (numpy.savez) rather than deflated;
 * 3: report.json has checkpointNotes; 4: the wording of its warning; 5: dictionary.npy.
 */
export const EXPORT_CODE_VERSION = '5';

export const EXPORT_FILES = ['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json'] as const;

export function exportTask(collection: string, dictionary: DictionaryOptions): TaskDeclaration {
  const [gridId, rfiId, labelId] = (['grid', 'rfi', 'label'] as const).map((k) => taskId(k, collection));
  return {
    id: taskId('export', collection),
    kind: 'export',
    codeVersion: EXPORT_CODE_VERSION,
    params: { dictionary: dictionary as Json },
    files: [],
    deps: [gridId, rfiId, labelId],
    description: `${EXPORT_FILES.join(', ')} in <outDir>/${collection}/`,
    async run(ctx) {
      const { buildDataframeRows, dataframeToCsv, dictionaryEntries, dictionaryToBytes, writeGridNpz } = await writers();
      const { grid, coverage } = ctx.upstream.get(gridId) as GridOutput;
      const rows = buildDataframeRows(grid, ctx.upstream.get(rfiId) as RfiGrids, ctx.upstream.get(labelId) as LabelGrids);
      const text = (s: string) => Buffer.from(s, 'utf8');
      const report = coverageReport(collection, grid.axes, coverage);
      for (const w of report.warnings) ctx.note(w);
      return {
        value: { rows: rows.length, report },
        files: {
          ...(await dictionaryNpyFile(collection, grid, dictionary)),
          [`${collection}/dataframe.csv`]: text(dataframeToCsv(rows)),
          [`${collection}/dictionary.json`]: dictionaryToBytes(dictionaryEntries(grid, dictionary)),
          [`${collection}/grid.npz`]: writeGridNpz(grid),
          [`${collection}/report.json`]: text(JSON.stringify(report, null, 2) + '\n'),
        },
      };
    },
  };
}

// dictionary.npy (issue 13): kept apart from the run function above so edits to either merge cleanly.
const npyWriter = lazy(() => import('../dataset/dictionary-npy.js'));

async function dictionaryNpyFile(collection: string, grid: GridOutput['grid'], options: DictionaryOptions): Promise<Record<string, Uint8Array>> {
  const [{ dictionaryToNpy }, { dictionaryEntries }] = await Promise.all([npyWriter(), writers()]);
  return { [`${collection}/dictionary.npy`]: dictionaryToNpy(dictionaryEntries(grid, options)) };
}

/** What `report.json` holds: coverage of the axes and what a person should look at. */
export function coverageReport(collection: string, axes: GridOutput['grid']['axes'], c: Coverage) {
  const warnings: string[] = [];
  if (c.missingConfigurations.length > 0) {
    warnings.push(`${c.missingConfigurations.length} of ${c.expected} configurations have no checkpoint folder (their rows are NaN)`);
  }
  for (const [file, n] of Object.entries(c.missingFiles)) {
    warnings.push(`${n} checkpoint folder${n === 1 ? '' : 's'} lack ${file} (those metrics are NaN)`);
  }
  if (c.outsideAxes.length > 0) {
    warnings.push(`${c.outsideAxes.length} checkpoint folder${c.outsideAxes.length === 1 ? ' is' : 's are'} outside the configured axes and not in the outputs`);
  }
  if (c.checkpointNotes.length > 0) {
    const n = c.checkpointNotes.length;
    warnings.push(`${n} checkpoint folder${n === 1 ? ' has' : 's have'} notes (seed counts that differ, NaN CKA entries): see checkpointNotes in report.json`);
  }
  return {
    collection,
    source: c.source,
    axes: { bs: [...axes.bs], width: [...axes.width], data: [...axes.data] },
    configurations: { expected: c.expected, found: c.found, missing: c.missingConfigurations },
    missingFiles: c.missingFiles,
    nanCells: c.nanCells,
    outsideAxes: c.outsideAxes,
    checkpointNotes: c.checkpointNotes,
    warnings,
  };
}
