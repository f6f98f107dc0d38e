/**
 * What a parse task computes from one checkpoint folder's files: its value and the notes it gives. One
 * function for the task's `run` on the engine's thread (`tasks/parse.ts`) and for the same run on a worker
 * thread (`runOffloaded`, which the engine loads by this module's URL: `pipeline/builder/offload.ts`), so
 * the two cannot drift apart.
 */
import { absenceNote, extractCheckpointMetrics } from './checkpoint-metrics.js';
import { METRIC_FILES, type MetricFile } from './metrics.js';
import { encodeCheckpoint, type PackedCheckpoint } from './parse-codec.js';

/** The note of a matched folder that holds none of the metric files (listed per folder in report.json). */
export const NOT_A_CHECKPOINT_NOTE =
  'none of the six metric files is in this folder, so it is not a checkpoint (its row is NaN): if the files are in a sub-folder, add it to the layout';

/** A checkpoint folder's place on the axes (the task's params). */
export type FolderCoords = PackedCheckpoint['coords'];

/**
 * The folder's value and every note (absent files included: the task gives them all, while the value keeps
 * only those that are not about absent files, which the report counts per collection).
 * @throws as `extractCheckpointMetrics` does (a file that is not a valid pickle or npz, or not shaped as
 *   SEMANTICS.md says)
 */
export function parseCheckpointFolder(files: ReadonlyMap<string, Uint8Array | null>, folder: string, coords: FolderCoords): { value: PackedCheckpoint; notes: string[] } {
  const result = extractCheckpointMetrics(files, folder);
  const absent: MetricFile[] = METRIC_FILES.filter((name) => files.get(name) == null);
  const absentNotes = new Set(absent.map(absenceNote));
  const kept = result.notes.filter((n) => !absentNotes.has(n));
  if (absent.length === METRIC_FILES.length) kept.unshift(NOT_A_CHECKPOINT_NOTE);
  const value: PackedCheckpoint = { coords, metrics: result.metrics, seeds: result.seeds, absent };
  if (kept.length > 0) value.notes = kept;
  return { value, notes: result.notes };
}

/** The parse task's `offload` arguments: its folder and coordinates. */
export interface ParseOffloadArgs extends FolderCoords {
  folder: string;
}

/** The engine's worker-thread entry (see the header): the value as the task's codec encodes it, and the notes. */
export function runOffloaded(args: ParseOffloadArgs, files: ReadonlyMap<string, Uint8Array | null>): { value: Uint8Array; notes: string[] } {
  const { value, notes } = parseCheckpointFolder(files, args.folder, { bs: args.bs, width: args.width, data: args.data });
  return { value: encodeCheckpoint(value), notes };
}
