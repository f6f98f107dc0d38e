/**
 * `export:C`: the collection's published files, in `<outDir>/<C>/`: `dataframe.csv`, `dictionary.json`,
 * `grid.npz` and `report.json` (coverage, dataset/coverage.ts). The engine writes them atomically once the
 * task succeeded. With its previous files, the two text files are patched (dataset/text-exports.ts), and so
 * is dictionary.npy (dataset/dictionary-npy.ts).
 */
import type { DictionaryOptions } from '../dataset/dictionary.js';
import type { ExportInputs } from '../dataset/text-exports.js';
import type { Json, PreviousResult, TaskDeclaration } from '../pipeline/index.js';
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
    // With its previous files, only the rows and entries (text and .npy) a change can reach are formatted again.
    incremental: true,
    async run(ctx) {
      const w = await writers();
      const { grid, coverage } = read(ctx, gridRef);
      const { labels } = read(ctx, labelRef);
      const inputs: ExportInputs = { grid, rfi: read(ctx, rfiRef).grids, labels, dictionary };
      const previous = ctx.previous && previousFiles(w, ctx.previous);
      const tables = (previous && patched(w, previous, inputs)) ?? w.textExports(inputs);
      const report = w.coverageReport(collection, grid, coverage, labels);
      for (const warning of report.warnings) ctx.note(warning);
      return {
        value: { rows: w.gridSize(grid.axes), report },
        files: {
          ...(await dictionaryNpyFile(collection, grid, dictionary, previous)),
          [file('dataframe.csv')]: tables.csv,
          [file('dictionary.json')]: tables.json,
          [file('grid.npz')]: w.writeGridNpz(grid),
          [file('report.json')]: Buffer.from(JSON.stringify(report, null, 2) + '\n', 'utf8'),
        },
      };
    },
  };

  /** The previous files and the grid they were written from (the previous grid.npz), or null to write in full. */
  function previousFiles(w: Writers, previous: PreviousResult): PreviousFiles | null {
    const npz = previous.files.get(file('grid.npz'));
    if (!npz) return null;
    try {
      return { grid: w.readGridNpz(npz, file('grid.npz')), files: previous.files };
    } catch {
      return null; // a hint only: a previous file that does not read back is written anew
    }
  }

  /** The text files patched from the previous ones, or null to write them in full. */
  function patched(w: Writers, previous: PreviousFiles, inputs: ExportInputs) {
    const [csv, json] = (['dataframe.csv', 'dictionary.json'] as const).map((f) => previous.files.get(file(f)));
    if (!csv || !json) return null;
    return w.patchTextExports({ grid: previous.grid, csv, json }, inputs);
  }
}

/** What a patch starts from: the previous run's files and the grid read from its grid.npz. */
interface PreviousFiles {
  grid: ExportInputs['grid'];
  files: PreviousResult['files'];
}

// dictionary.npy (issue 13): kept apart from the run function above so edits to either merge cleanly.
const npyWriter = lazy(() => import('../dataset/dictionary-npy.js'));

/** dictionary.npy, patched from the previous one when there is one (dataset/dictionary-npy.ts), else whole. */
async function dictionaryNpyFile(collection: string, grid: ExportInputs['grid'], options: DictionaryOptions, previous: PreviousFiles | null): Promise<Record<string, Uint8Array>> {
  const [{ dictionaryToNpy, patchDictionaryNpy }, { dictionaryEntries }] = await Promise.all([npyWriter(), import('../dataset/dictionary.js')]);
  const name = `${collection}/dictionary.npy`;
  const npy = previous?.files.get(name);
  const bytes = (npy && previous && patchDictionaryNpy({ grid: previous.grid, npy }, grid, options)) ?? dictionaryToNpy(dictionaryEntries(grid, options));
  return { [name]: bytes };
}
