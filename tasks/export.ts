/**
 * `export:C`: the collection's published files, in `<outDir>/<C>/`: `dataframe.csv`, `dictionary.json`,
 * `grid.npz` and `report.json` (coverage, dataset/coverage.ts). The engine writes them atomically once the
 * task succeeded. With its previous files, the two text files are patched (dataset/text-exports.ts).
 */
import type { DictionaryOptions } from '../dataset/dictionary.js';
import type { ExportInputs } from '../dataset/text-exports.js';
import type { Json, PreviousResult, TaskDeclaration } from '../pipeline/task.js';
import { read, refs, taskId } from './ids.js';
import { lazy } from './lazy.js';

const writers = lazy(async () => {
  const [coverage, grid, gridNpz, textExports] = await Promise.all([
    import('../dataset/coverage.js'),
    import('../dataset/grid.js'),
    import('../dataset/grid-npz.js'),
    import('../dataset/text-exports.js'),
  ]);
  return { ...coverage, ...grid, ...gridNpz, ...textExports };
});
type Writers = Awaited<ReturnType<typeof writers>>;

/**
 * Bump when what an export writes changes. 2: grid.npz stored (numpy.savez) rather than deflated;
 * 3: report.json has checkpointNotes; 4: the wording of its warning; 5: report.json counts the labels
 * computed with missing neighbours (incr) / dictionary.npy (outputs); 6: both; 7: counts in its warnings
 * with thousands separators (`1,672 of 1,690`).
 */
export const EXPORT_CODE_VERSION = '7';

export const EXPORT_FILES = ['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json'] as const;

export function exportTask(collection: string, dictionary: DictionaryOptions): TaskDeclaration {
  const [gridRef, rfiRef, labelRef] = [refs.grid(collection), refs.rfi(collection), refs.label(collection)];
  const file = (name: (typeof EXPORT_FILES)[number]) => `${collection}/${name}`;
  return {
    id: taskId('export', collection),
    kind: 'export',
    codeVersion: EXPORT_CODE_VERSION,
    params: { dictionary: dictionary as Json },
    files: [],
    deps: [gridRef, rfiRef, labelRef],
    description: `${EXPORT_FILES.join(', ')} in <outDir>/${collection}/`,
    // With its previous files, only the rows and entries a change can reach are formatted again.
    incremental: true,
    async run(ctx) {
      const w = await writers();
      const { grid, coverage } = read(ctx, gridRef);
      const { labels } = read(ctx, labelRef);
      const inputs: ExportInputs = { grid, rfi: read(ctx, rfiRef).grids, labels, dictionary };
      const tables = (ctx.previous && patched(w, ctx.previous, inputs)) ?? w.textExports(inputs);
      const report = w.coverageReport(collection, grid, coverage, labels);
      for (const warning of report.warnings) ctx.note(warning);
      return {
        value: { rows: w.gridSize(grid.axes), report },
        files: {
          ...(await dictionaryNpyFile(collection, grid, dictionary)),
          [file('dataframe.csv')]: tables.csv,
          [file('dictionary.json')]: tables.json,
          [file('grid.npz')]: w.writeGridNpz(grid),
          [file('report.json')]: Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8'),
        },
      };
    },
  };

  /** The text files patched from the previous ones, or null to write them in full. */
  function patched(w: Writers, previous: PreviousResult, inputs: ExportInputs) {
    const [npz, csv, json] = (['grid.npz', 'dataframe.csv', 'dictionary.json'] as const).map((f) => previous.files.get(file(f)));
    if (!npz || !csv || !json) return null;
    let grid;
    try {
      grid = w.readGridNpz(npz, file('grid.npz'));
    } catch {
      return null; // a hint only: a previous file that does not read back is written anew
    }
    return w.patchTextExports({ grid, csv, json }, inputs);
  }
}

// dictionary.npy (issue 13): kept apart from the run function above so edits to either merge cleanly.
const npyWriter = lazy(() => import('../dataset/dictionary-npy.js'));

async function dictionaryNpyFile(collection: string, grid: ExportInputs['grid'], options: DictionaryOptions): Promise<Record<string, Uint8Array>> {
  const [{ dictionaryToNpy }, { dictionaryEntries }] = await Promise.all([npyWriter(), import('../dataset/dictionary.js')]);
  return { [`${collection}/dictionary.npy`]: dictionaryToNpy(dictionaryEntries(grid, options)) };
}
