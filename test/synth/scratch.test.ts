import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../synth/index.js';
import { extractCheckpointMetrics } from '../../dataset/checkpoint-metrics.js';
import { METRIC_FILES } from '../../dataset/metrics.js';

test('scratch', async () => {
  const out = mkdtempSync(join(tmpdir(), 'synth-'));
  const r = await synthesize({ out, collection: 'basic', axes: 'small', seed: 1 });
  console.log(r);
  const dir = join(out, 'different_knobs_subset_10/bs_64/normal/ResNet18_w8/metrics');
  const files = new Map(METRIC_FILES.map((f) => [f, existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : null] as const));
  console.log(extractCheckpointMetrics(files, dir));
  const g = '/work/shared/reference/published/metric_grid_13_13_10_public.npy';
  const out2 = mkdtempSync(join(tmpdir(), 'synth-'));
  const r2 = await synthesize({ out: out2, collection: 'basic', grid: g });
  console.log(r2);
  const r3 = await synthesize({ out: out2, collection: 'noisy', grid: g });
  console.log(r3, out, out2);
});
