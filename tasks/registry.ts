/**
 * The partition kinds a worker can run (`mdpipe worker`, remote/): each rebuilds the very task
 * declaration the coordinator has, from what a queued job carries (its id, parameters and folder), so a
 * worker runs the same task code with no configuration file. Only parse tasks go to workers: they are the
 * per-checkpoint work (3,380 of the 3,388 tasks of the two full collections); the per-collection tasks
 * need every parse output and run on the coordinator.
 */
import path from 'node:path';
import type { Json, TaskDeclaration } from '../pipeline/index.js';
import { PARSE_CODE_VERSION, parseTask } from './parse.js';

/** What a job says about one task. */
export interface RemoteTaskSpec {
  id: string;
  kind: string;
  /** The coordinator's code version of the kind: a worker with another one refuses the job. */
  codeVersion: string;
  params: Json;
  /** Absolute folder holding the task's input files (the same path on every machine). */
  folder: string;
}

interface RemoteKind {
  codeVersion: string;
  rebuild(spec: RemoteTaskSpec): TaskDeclaration;
}

export const REMOTE_KINDS: Readonly<Record<string, RemoteKind>> = {
  parse: {
    codeVersion: PARSE_CODE_VERSION,
    rebuild(spec) {
      const collection = spec.id.slice('parse:'.length, spec.id.lastIndexOf('/'));
      const { bs, width, data } = spec.params as { bs: number; width: number; data: string };
      return parseTask(collection, spec.folder, { bs, width, data });
    },
  },
};

/** The spec of a declaration a worker can run, or undefined for a kind that stays on the coordinator. */
export function remoteSpec(task: TaskDeclaration): RemoteTaskSpec | undefined {
  if (!(task.kind in REMOTE_KINDS) || task.files.length === 0) return undefined;
  return { id: task.id, kind: task.kind, codeVersion: task.codeVersion, params: task.params, folder: path.dirname(task.files[0].path) };
}
