/**
 * The body of the worker thread that lays out a run page's graph while the build runs (cli/graph-layout.ts,
 * `layOutAhead`): Graphviz's WebAssembly loaded and the DOT laid out on the other core, the SVG posted back.
 * Loaded from the compiled file, not the bundle: it imports only Graphviz and the drawing function.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dotToSvg } from './graph-picture.js';

parentPort!.postMessage(await dotToSvg((workerData as { dot: string }).dot));
