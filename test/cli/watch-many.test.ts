/**
 * `mdpipe watch` when many checkpoint folders land at once (80, moved in by four renames, one of them with a
 * file cut short): one build takes them all; watch tells the broken folder's failure (its reader's reason
 * and file) from folders being written, builds the 79 others, and rebuilds only that folder once it is
 * fixed. (Even with `MDPIPE_OFFLOAD=64` such a build ends before the engine's second thread is ready, so
 * this does not test that thread; a failure there runs `run` again here, which is what watch wraps:
 * test/pipeline/offload.test.ts.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { synthesize } from '../../synth/index.js';
import { basicFolder, expectExit, mdpipe, parseJson, smallProject, spawnMdpipe } from './support.js';
import { lines, stop, until } from './watch-support.js';

/** 4 x 5 x 4 = 80 configurations, none in the small project (whose data values are 10 and 05). */
const LANDING = { bs: [16, 24, 64, 256], width: [2, 4, 8, 16, 32], data: ['01', '02', '03', '04'] };

test('80 folders landing at once, one broken: it fails with its reason, the 79 others are built, fixing it rebuilds only it', async () => {
  const dir = await smallProject('watch-many');
  // The basic collection's axes take in the landing configurations (built as missing cells until then).
  const configFile = path.join(dir, 'mdpipe.config.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { collections: Record<string, { raw: string; layout: string; axes: typeof LANDING }> };
  const basic = config.collections.basic;
  basic.axes = {
    bs: [...new Set([...basic.axes.bs, ...LANDING.bs])].sort((a, b) => a - b),
    width: [...new Set([...basic.axes.width, ...LANDING.width])].sort((a, b) => a - b),
    data: [...new Set([...basic.axes.data, ...LANDING.data])].sort(),
  };
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  // Written beside the tree first, then moved in with one rename per data fraction.
  const staging = path.join(dir, 'staging');
  const written = await synthesize({ out: staging, collection: 'basic', axes: LANDING, layout: basic.layout });
  expect(written.folders).toBe(80);
  const broken = path.join(staging, 'different_knobs_subset_04/bs_64/normal/ResNet18_w8/metrics/loss_acc.pkl');
  const good = fs.readFileSync(broken);
  fs.writeFileSync(broken, good.subarray(0, Math.floor(good.length / 2)));

  const w = spawnMdpipe(['watch', '--quiet-ms', '300', '--json'], { cwd: dir });
  try {
    await until(w, 'the first build', () => lines(w).length >= 1);
    expect(lines(w)[0]).toMatchObject({ ok: true, failed: 0 });
    const before = lines(w).length;
    for (const data of LANDING.data) {
      const name = `different_knobs_subset_${data}`;
      fs.renameSync(path.join(staging, name), path.join(dir, 'raw/basic', name));
    }
    await until(w, 'the build of the landed folders', () => lines(w).slice(before).some((l) => l.failed > 0));
    const landed = lines(w).slice(before).find((l) => l.failed > 0)!;
    const file = path.join(dir, 'raw/basic/different_knobs_subset_04/bs_64/normal/ResNet18_w8/metrics/loss_acc.pkl');
    expect(landed.tasks.filter((t) => t.status === 'failed').map((t) => t.id)).toEqual(['parse:basic/bs64-w8-d04']);
    expect(landed.waiting).toBe(0);
    expect(landed.tasks.filter((t) => t.status === 'executed' && t.id.startsWith('parse:basic/')).length).toBe(79);
    await until(w, 'the error on stderr', () => w.output.stderr.includes(file));
    expect(w.output.stderr).toMatch(/truncated/);
    const fixedFrom = lines(w).length;
    fs.writeFileSync(file, fs.readFileSync(path.join(basicFolder(dir, 16, 2, '01'), 'loss_acc.pkl')));
    await until(w, 'the rebuild after the fix', () => lines(w).slice(fixedFrom).some((l) => l.ok && l.executed > 0));
    const fixed = lines(w).slice(fixedFrom).find((l) => l.executed > 0)!;
    expect(fixed.tasks.filter((t) => t.status === 'executed' && t.id.startsWith('parse:')).map((t) => t.id)).toEqual(['parse:basic/bs64-w8-d04']);
  } finally {
    expect([0, 130]).toContain(await stop(w));
  }
  // What watch built is what a run finds fresh.
  const after = await mdpipe(['run', '--json'], { cwd: dir });
  expectExit(after, 0);
  expect(parseJson<{ executed: number; failed: number }>(after)).toMatchObject({ executed: 0, failed: 0 });
}, 120_000);
