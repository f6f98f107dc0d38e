/**
 * `parse:C/bs..-w..-d..`: one task per checkpoint folder of a raw collection, found by globbing the
 * collection's layout. Its inputs are the six metric files (each optional: an absent file gives NaN
 * metrics and a note); its output is the folder's metrics.
 */
import path from 'node:path';
import type { CheckpointCoords } from '../config/layout.js';
import type { RawCollection } from '../config/load.js';
import { METRIC_FILES, type MetricFile, type Metrics } from '../dataset/metrics.js';
import { offConfiguredAxes, type OutsideFolder } from '../dataset/outside-axes.js';
import { PARSE_CODEC } from '../dataset/parse-codec.js';
import type { PartitionedKind, TaskDeclaration } from '../pipeline/index.js';
import { parseId } from './ids.js';
import { lazy } from './lazy.js';

const extractor = lazy(() => import('../dataset/checkpoint-metrics.js'));

/**
 * Bump when what a parse task computes changes (the reader, the formulas). 3: a folder with none of the
 * six files carries a note saying it is not a checkpoint.
 */
export const PARSE_CODE_VERSION = '3';

/** The note of a matched folder that holds none of the metric files (listed per folder in report.json). */
export const NOT_A_CHECKPOINT_NOTE =
  'none of the six metric files is in this folder, so it is not a checkpoint (its row is NaN): if the files are in a sub-folder, add it to the layout';

/**
 * Largest metric file read: real ones are 0.2 to 9 kB, so anything near this is not a metric file, and
 * failing it before it is read keeps a stray huge file from taking the memory of the run.
 */
export const METRIC_FILE_MAX_BYTES = 64 * 1024 * 1024;

/** What a parse task passes downstream. */
export interface ParsedCheckpoint {
  coords: CheckpointCoords;
  metrics: Metrics;
  seeds: number;
  /** Metric files the folder lacks. */
  absent: MetricFile[];
  /** What a person should know about the folder besides absent files (seed counts that differ, NaN CKA entries). */
  notes?: string[];
}

/**
 * The partitioned kind of one raw collection. Folders outside the configured axes are declined with
 * the reason (the engine reports them) and recorded in `outside` for the collection's report; the
 * absolute paths of the folders it accepts go to `folders`, in discovery order.
 */
export function parseKind(collection: RawCollection, outside: OutsideFolder[], folders: string[] = []): PartitionedKind {
  return {
    kind: 'parse',
    name: `parse:${collection.name}`,
    discover: { cwd: collection.root, pattern: collection.layout.glob, onlyDirectories: true },
    partition(match: string): TaskDeclaration | { skip: string } {
      const coords = collection.layout.parse(match);
      if (!coords) return { skip: `does not fit the layout ${collection.layout.template}` };
      const off = offConfiguredAxes(collection.axes, coords);
      if (off) {
        outside.push({ folder: match, reason: off });
        return { skip: off };
      }
      // `root` is resolved and a match is entry names joined by `/` (discovery's walk), so on POSIX the two
      // need no normalising: path.join of 3,380 matches measured 14-18 ms of a no-op run.
      const folder = path.sep === '/' ? `${collection.root === '/' ? '' : collection.root}/${match}` : path.join(collection.root, match);
      folders.push(folder);
      return parseTask(collection.name, folder, coords);
    },
  };
}

/** One parse task; also rebuilt from a queued job by `tasks/registry.ts` on a worker. */
export function parseTask(collection: string, folder: string, coords: CheckpointCoords): TaskDeclaration {
  return {
    id: parseId(collection, coords),
    kind: 'parse',
    codeVersion: PARSE_CODE_VERSION,
    params: { bs: coords.bs, width: coords.width, data: coords.data },
    // Concatenation, not path.join: `folder` is normalised already, and 20,000 joins showed in a no-op's profile.
    files: METRIC_FILES.map((name) => ({ name, path: `${folder}${path.sep}${name}`, optional: true, maxBytes: METRIC_FILE_MAX_BYTES })),
    deps: [],
    description: `metrics of ${folder}`,
    // Packed numbers, not a v8-serialised object (dataset/parse-codec.ts): smaller and faster to decode.
    codec: PARSE_CODEC,
    async run(ctx) {
      const { extractCheckpointMetrics, absenceNote } = await extractor();
      const result = extractCheckpointMetrics(ctx.files, folder);
      for (const note of result.notes) ctx.note(note);
      const absent = METRIC_FILES.filter((name) => ctx.files.get(name) == null);
      // Absent files are counted per collection in the report; the other notes go to it folder by folder.
      const absentNotes = new Set(absent.map(absenceNote));
      const notes = result.notes.filter((n) => !absentNotes.has(n));
      if (absent.length === METRIC_FILES.length) notes.unshift(NOT_A_CHECKPOINT_NOTE);
      const value: ParsedCheckpoint = { coords, metrics: result.metrics, seeds: result.seeds, absent };
      if (notes.length > 0) value.notes = notes;
      return { value };
    },
  };
}
