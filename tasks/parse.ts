/**
 * `parse:C/bs..-w..-d..`: one task per checkpoint folder of a raw collection, found by globbing the
 * collection's layout. Its inputs are the six metric files (each optional: an absent file gives NaN
 * metrics and a note); its output is the folder's metrics.
 */
import path from 'node:path';
import type { CheckpointCoords } from '../config/layout.js';
import type { RawCollection } from '../config/load.js';
import { METRIC_FILES } from '../dataset/metrics.js';
import { offConfiguredAxes, type OutsideFolder } from '../dataset/outside-axes.js';
import { PARSE_CODEC, type PackedCheckpoint } from '../dataset/parse-codec.js';
import type { PartitionedKind, TaskDeclaration } from '../pipeline/index.js';
import { parseId } from './ids.js';
import { compiledFile } from '../util/compiled-file.js';
import { lazy } from './lazy.js';

const parser = lazy(() => import('../dataset/parse-folder.js'));

/**
 * Bump when what a parse task computes changes (the reader, the formulas). 3: a folder with none of the
 * six files carries a note saying it is not a checkpoint.
 */
export const PARSE_CODE_VERSION = '3';

/**
 * Largest metric file read: real ones are 0.2 to 9 kB, so anything near this is not a metric file, and
 * failing it before it is read keeps a stray huge file from taking the memory of the run.
 */
export const METRIC_FILE_MAX_BYTES = 64 * 1024 * 1024;

/** What a parse task passes downstream: what its codec packs (dataset/parse-codec.ts), not restated here. */
export type ParsedCheckpoint = PackedCheckpoint;

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
    // The same run on the engine's second thread when many parses run at once (pipeline/builder/offload.ts).
    offload: offloadTo(folder, coords),
    async run(ctx) {
      const { parseCheckpointFolder } = await parser();
      const { value, notes } = parseCheckpointFolder(ctx.files, folder, coords);
      for (const note of notes) ctx.note(note);
      return { value };
    },
  };
}

let offloadUrl: string | null | undefined;

/**
 * The parse task's `offload` (see pipeline/task.ts): the compiled `dataset/parse-folder.js`, which a worker
 * thread loads, found beside the compiled tasks or the bundle (both two levels down in dist/) or under dist/
 * from the sources (tests); undefined where there is none (the task then always runs on the engine's thread).
 */
function offloadTo(folder: string, coords: CheckpointCoords): TaskDeclaration['offload'] {
  if (offloadUrl === undefined) {
    offloadUrl = compiledFile(import.meta.url, ['../dataset/parse-folder.js', '../dist/dataset/parse-folder.js'])?.href ?? null;
  }
  return offloadUrl === null ? undefined : { module: offloadUrl, args: { folder, bs: coords.bs, width: coords.width, data: coords.data } };
}
