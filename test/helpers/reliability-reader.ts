/**
 * A reader that polls one file in a tight loop on a worker thread (so the test's own event loop stays free
 * to drive the CLI) and records every distinct content it saw, for the atomic-output tests: a reader must
 * only ever see a whole old or a whole new file.
 */
import { Worker } from 'node:worker_threads';

export interface ReaderReport {
  /** Successful reads. */
  reads: number;
  /** Failed reads by error code (ENOENT: the file was missing for a moment). */
  errors: Record<string, number>;
  /** Distinct contents seen, with how often (at most `maxDistinct`). */
  seen: [string, number][];
  /** Reads whose content was not kept because `maxDistinct` distinct ones were already kept. */
  overflow: number;
}

export interface PollingReader {
  /** Stops the loop and returns what it saw. */
  stop(): Promise<ReaderReport>;
}

// Plain JavaScript, evaluated by the worker (no TypeScript loader there).
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const flag = new Int32Array(workerData.stop);
const seen = new Map();
const errors = {};
let reads = 0;
let overflow = 0;
parentPort.postMessage('started');
while (Atomics.load(flag, 0) === 0) {
  let text;
  try {
    text = fs.readFileSync(workerData.path, 'utf8');
  } catch (error) {
    errors[error.code] = (errors[error.code] || 0) + 1;
    continue;
  }
  reads++;
  if (seen.has(text)) seen.set(text, seen.get(text) + 1);
  else if (seen.size < workerData.maxDistinct) seen.set(text, 1);
  else overflow++;
}
parentPort.postMessage({ reads, errors, seen: [...seen], overflow });
`;

/** Starts polling `path`; resolves once the loop runs. */
export async function startPollingReader(path: string, maxDistinct = 64): Promise<PollingReader> {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(LOOP, { eval: true, workerData: { path, stop, maxDistinct } });
  const report = new Promise<ReaderReport>((resolve, reject) => {
    worker.on('message', (message: unknown) => {
      if (message !== 'started') resolve(message as ReaderReport);
    });
    worker.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const result = await report;
      await worker.terminate();
      return result;
    },
  };
}
