/** What the build's thread and the offload thread (`offload.ts`, `offload-worker.ts`) pass each other. */

/**
 * Tasks of one `offload` module, with their files one after another in `bytes`. The arguments and file
 * names travel as one JSON text each, not as objects: cloning 16 tasks' objects and name arrays was most of
 * the ~0.3 ms a message cost the build's thread.
 */
export interface OffloadBatch {
  id: number;
  module: string;
  /** JSON of the tasks' `offload.args`, in order. */
  args: string;
  /** JSON of each task's file names, in the order of `lengths` (one array per task). */
  names: string;
  /** Per file, its length in `bytes`; -1 when the file is absent. */
  lengths: Int32Array;
  bytes: Uint8Array;
}

/** Per task of a batch: its encoded value (in `bytes`, `lengths` long) and notes, or failed (run it here). */
export interface OffloadReply {
  id: number;
  failed: Uint8Array;
  bytes: Uint8Array;
  lengths: Int32Array;
  /** JSON of each task's notes (one array per task). */
  notes: string;
}
