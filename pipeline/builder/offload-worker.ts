/**
 * The body of the offload thread (`offload.ts`): runs batches of tasks' `offload` functions on the files the
 * build's thread read, and posts their values and notes back in one message per batch. It does no file
 * I/O: on this kind of machine (2 virtual cores) a second thread's reads and stats slowed the build's own
 * by as much as they saved, while pure computation runs on the second core at full speed.
 *
 * Loaded from the compiled file, not the bundle; it imports the task modules by the URLs the batches name.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { OffloadBatch, OffloadReply } from './offload-protocol.js';

type Run = (args: unknown, files: ReadonlyMap<string, Uint8Array | null>) => { value: Uint8Array; notes: string[] };
const modules = new Map<string, Promise<Run>>();

function load(url: string): Promise<Run> {
  let run = modules.get(url);
  if (run === undefined) {
    run = import(url).then((m: { runOffloaded?: Run }) => {
      if (typeof m.runOffloaded !== 'function') throw new Error(`${url} exports no runOffloaded`);
      return m.runOffloaded;
    });
    modules.set(url, run);
  }
  return run;
}

parentPort!.on('message', async (batch: OffloadBatch) => {
  let run: Run | undefined;
  try {
    run = await load(batch.module);
  } catch {
    run = undefined; // every task of the batch runs on the build's thread
  }
  const args = JSON.parse(batch.args) as unknown[];
  const names = JSON.parse(batch.names) as string[][];
  const count = args.length;
  const failed = new Uint8Array(count);
  const values: Uint8Array[] = [];
  const notes: string[][] = [];
  let at = 0;
  let file = 0;
  let total = 0;
  for (let k = 0; k < count; k++) {
    const files = new Map<string, Uint8Array | null>();
    for (const name of names[k]) {
      const length = batch.lengths[file++];
      files.set(name, length < 0 ? null : Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset + at, length));
      if (length > 0) at += length;
    }
    try {
      if (run === undefined) throw new Error('no module');
      const result = run(args[k], files);
      if (!(result?.value instanceof Uint8Array) || !Array.isArray(result.notes)) throw new Error('runOffloaded returned no { value: bytes, notes }');
      values.push(result.value);
      notes.push(result.notes);
      total += result.value.byteLength;
    } catch {
      failed[k] = 1;
      values.push(new Uint8Array(0));
      notes.push([]);
    }
  }
  const bytes = new Uint8Array(total);
  const lengths = new Int32Array(count);
  let to = 0;
  values.forEach((value, k) => {
    bytes.set(value, to);
    lengths[k] = value.byteLength;
    to += value.byteLength;
  });
  const reply: OffloadReply = { id: batch.id, failed, bytes, lengths, notes: JSON.stringify(notes) };
  parentPort!.postMessage(reply, [bytes.buffer, lengths.buffer, failed.buffer]);
});

// Load the module the build asked for before it sends work, then say so: until then it runs tasks itself.
const { preload } = workerData as { preload: string };
load(preload).then(
  () => parentPort!.postMessage('ready'),
  () => {}, // never ready: everything runs on the build's thread
);
