/**
 * Per-task and per-file state of one build, as flat arrays indexed by task (or path) number: a no-op
 * build over 3,400 tasks touches these and little else. `outcome(i)` is the one place a task's result
 * is put together, for the `task-end` event and for the build result alike.
 */
import type { Digest } from '../../cache/digest.js';
import type { TaskRecord } from '../../cache/record.js';
import type { PlannedAction, PlannedTask, TaskOutcome, TaskStatus } from '../events.js';
import type { FileStat } from '../file-state.js';
import type { Change } from '../fingerprint.js';
import type { TaskGraph } from '../task-graph.js';

export const enum Phase {
  Pending,
  Resolving,
  Done,
}

export class TaskStates {
  readonly record: (TaskRecord | undefined)[];
  /** Record present and every blob it names exists. */
  readonly usable: Uint8Array;
  /** A record is in the store (deleted only when its blobs are lost). */
  readonly stored: Uint8Array;
  /** Dependencies in scope not yet done. */
  readonly waiting: Int32Array;
  /** Dependents in scope not yet done (the task's encoded value is kept while any remain). */
  readonly consumers: Int32Array;
  readonly phase: Uint8Array;
  readonly status: (TaskStatus | undefined)[];
  /** Dry run: what would happen. */
  readonly action: (PlannedAction | undefined)[];
  /** Dry run: output digest unknown (it would run). */
  readonly unknownOutput: Uint8Array;
  readonly digest: (Digest | undefined)[];
  readonly reason: (string | undefined)[];
  readonly changes: (Change[] | undefined)[];
  readonly error: (string | undefined)[];
  readonly restored: (string[] | undefined)[];
  readonly notes: (string[] | undefined)[];
  readonly readyAt: Float64Array;
  readonly ms: Float64Array;
  /**
   * Path numbers of the task's inputs (see {@link FileTable}); for a task the partition index decided,
   * only once it runs after all (`readInputs`).
   */
  readonly taskPaths: (Int32Array | undefined)[];
  readonly names: (string[] | undefined)[];
  /** Decided from the partition index (a hit whose record was never read). */
  readonly fast: Uint8Array;

  constructor(readonly graph: TaskGraph) {
    const n = graph.tasks.length;
    this.record = new Array(n);
    this.usable = new Uint8Array(n);
    this.stored = new Uint8Array(n);
    this.waiting = new Int32Array(n);
    this.consumers = new Int32Array(n);
    this.phase = new Uint8Array(n);
    this.status = new Array(n);
    this.action = new Array(n);
    this.unknownOutput = new Uint8Array(n);
    this.digest = new Array(n);
    this.reason = new Array(n);
    this.changes = new Array(n);
    this.error = new Array(n);
    this.restored = new Array(n);
    this.notes = new Array(n);
    this.readyAt = new Float64Array(n);
    this.ms = new Float64Array(n);
    this.taskPaths = new Array(n);
    this.names = new Array(n);
    this.fast = new Uint8Array(n);
  }

  /** Input names in declaration order (memoised). */
  fileNames(i: number): string[] {
    let names = this.names[i];
    if (names === undefined) this.names[i] = names = this.graph.tasks[i].files.map((file) => file.name);
    return names;
  }

  /** What became of task `i` in a real run. */
  outcome(i: number): TaskOutcome {
    // Fields set one by one rather than spread in: this runs twice per task in every run (the task-end
    // event, the result), and the spread's temporary objects showed in a no-op's profile.
    const outcome: TaskOutcome = { id: this.graph.ids[i], kind: this.graph.tasks[i].kind, status: this.status[i] ?? 'skipped', ms: Math.round(this.ms[i]) };
    const reason = this.reason[i];
    const error = this.error[i];
    const restored = this.restored[i];
    const notes = this.notes[i];
    if (reason !== undefined) outcome.reason = reason;
    if (error !== undefined) outcome.error = error;
    if (restored !== undefined) outcome.restored = restored;
    if (notes !== undefined && notes.length > 0) outcome.notes = notes;
    return outcome;
  }

  /** What a dry run says of task `i`. */
  planned(i: number): PlannedTask {
    return {
      id: this.graph.ids[i],
      kind: this.graph.tasks[i].kind,
      action: this.action[i] ?? 'run',
      reason: this.reason[i] ?? '',
      changes: this.changes[i] ?? [],
    };
  }
}

/** Every file path the build looks at, numbered, with what is known of it. */
export class FileTable {
  readonly #index = new Map<string, number>();
  readonly paths: string[] = [];
  /** undefined: absent; null: not statted or the stat failed. */
  stat: (FileStat | undefined | null)[] = [];
  digest: (Digest | undefined)[] = [];

  id(path: string): number {
    let id = this.#index.get(path);
    if (id === undefined) {
      id = this.paths.length;
      this.paths.push(path);
      this.#index.set(path, id);
    }
    return id;
  }

  /** The number of a path, if the build has seen it. */
  find(path: string): number | undefined {
    return this.#index.get(path);
  }

  /** Sizes the stat and digest columns once every path of interest is numbered. */
  allocate(): void {
    this.stat = new Array(this.paths.length).fill(null);
    this.digest = new Array(this.paths.length);
  }
}
