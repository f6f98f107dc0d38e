/** Helpers of the synth tests: temporary folders, reading a written tree back. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fg from 'fast-glob';
import { extractCheckpointMetrics, type CheckpointMetrics } from '../../dataset/checkpoint-metrics.js';
import { METRIC_FILES } from '../../dataset/metrics.js';

const made: string[] = [];

/** A fresh temporary folder, removed after all tests of the file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mdpipe-synth-test-'));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Every file under root, by path relative to it (sorted), with its bytes. */
export function readTree(root: string): Map<string, Buffer> {
  const paths = fg.sync('**/*', { cwd: root, dot: true, onlyFiles: true }).sort();
  return new Map(paths.map((p) => [p, readFileSync(join(root, p))]));
}

/** The extractor's metrics of one written folder (absent files as null, as the engine passes them). */
export function extractFolder(dir: string): CheckpointMetrics {
  const files = new Map(METRIC_FILES.map((f) => [f, existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : null] as const));
  return extractCheckpointMetrics(files, dir);
}

/** |a - b| <= rel * |b| (a, b both NaN counts as equal). */
export function closeRel(a: number, b: number, rel: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= rel * Math.abs(b);
}
