/** What the parts of one build share: its options, the graph, the per-task and per-file state, counters. */
import type { EngineEvent, RunStats } from '../events.js';
import type { TaskGraph } from '../task-graph.js';
import { FileTable, TaskStates } from './state.js';
import type { BuildOptions, InputRead } from './types.js';

export class BuildContext {
  readonly g: TaskGraph;
  readonly t: TaskStates;
  readonly files = new FileTable();
  readonly stats: RunStats = { filesHashed: 0, filesStatted: 0, blobsRead: 0, commits: 0, offloaded: 0 };
  /** Aborted on Ctrl-C (and seen by running tasks as `ctx.signal`). */
  readonly controller = new AbortController();
  /** Encoded outputs kept while dependents may need them. */
  readonly values = new Map<number, Uint8Array>();
  /** Inputs read while deciding, kept for the execution that follows (each input is read once). */
  readonly preread = new Map<number, (InputRead | undefined)[]>();
  readonly emit: (event: EngineEvent) => void;

  constructor(readonly o: BuildOptions) {
    this.g = o.graph;
    this.t = new TaskStates(o.graph);
    this.emit = o.mode === 'dry' ? () => {} : (o.emit ?? (() => {}));
  }
}
