/** What the build's thread and the offload thread (`offload.ts`, `offload-worker.ts`) pass each other. */
import type { Json } from '../../util/json.js';

/** Tasks of one `offload` module, with their files one after another in `bytes`. */
export interface OffloadBatch {
  id: number;
  module: string;
  args: Json[];
  /** Per task, the names of its files, in the order of `lengths`. */
  names: string[][];
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
  notes: string[][];
}
