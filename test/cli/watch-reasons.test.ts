/**
 * The reader failures `mdpipe watch` treats as "still being written" (cli/watch/definition.ts) are the
 * ones a file cut short gives: every 60th prefix of every metric file of a synthetic folder fails with one
 * of them (or parses, for a prefix that happens to be a whole value), never with another reason.
 */
import fs from 'node:fs';
import { extractCheckpointMetrics } from '../../dataset/checkpoint-metrics.js';
import { METRIC_FILES } from '../../dataset/metrics.js';
import { INCOMPLETE_REASONS, isStillBeingWritten } from '../../cli/watch/definition.js';
import { basicFolder, smallProject } from './support.js';

test('every prefix of a metric file fails with an "incomplete" reason', async () => {
  const dir = await smallProject('watch-reasons');
  const folder = basicFolder(dir, 64, 8, '05');
  const whole = new Map(METRIC_FILES.map((name) => [name, fs.readFileSync(`${folder}/${name}`)] as const));
  const seen = new Map<string, number>();
  for (const name of METRIC_FILES) {
    const bytes = whole.get(name)!;
    const step = Math.max(1, Math.floor(bytes.length / 60));
    for (let n = 0; n < bytes.length; n += step) {
      const files = new Map<string, Uint8Array | null>(whole);
      files.set(name, bytes.subarray(0, n));
      try {
        extractCheckpointMetrics(files, folder);
      } catch (error) {
        const reason = String((error as { reason?: unknown }).reason);
        seen.set(reason, (seen.get(reason) ?? 0) + 1);
      }
    }
  }
  for (const reason of seen.keys()) expect({ reason, incomplete: INCOMPLETE_REASONS.has(reason) }).toEqual({ reason, incomplete: true });
  expect(seen.get('truncated')).toBeGreaterThan(0);
  expect(seen.get('empty')).toBeGreaterThan(0);
}, 60_000);

test('waiting or failed: changed during the build, or cut short within the quiet period', () => {
  const start = 10_000;
  expect(isStillBeingWritten(start + 5, start, 300, 'bad-structure')).toBe(true); // changed while read
  expect(isStillBeingWritten(start - 100, start, 300, 'truncated')).toBe(true);
  expect(isStillBeingWritten(start - 100, start, 300, 'bad-magic')).toBe(false);
  expect(isStillBeingWritten(start - 400, start, 300, 'truncated')).toBe(false); // quiet period passed
});
