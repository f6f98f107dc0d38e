/**
 * Every example in every `--help` runs as written (exit 0), in a folder like the one the help assumes: a
 * `mdpipe.config.json` for small basic and noisy trees. The grid example needs the published grid: it is
 * linked in when ../shared exists, else that example is skipped, saying so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hasReference, PUBLISHED_GRID, REFERENCE } from '../helpers/shared.js';
import { expectExit, mdpipe, shell, smallProject } from './support.js';

/** In the order a new user would meet them: make a tree, build, look, tidy up. */
const HELP_PAGES = [['synth'], ['run'], ['status'], ['explain'], ['graph'], ['cache'], ['cache', 'info'], ['cache', 'gc'], ['clean'], ['demo'], []];

function examplesOf(help: string): string[] {
  return [...help.matchAll(/^ {2}\$ (mdpipe .*)$/gm)].map((m) => m[1]);
}

describe('help examples run as written', () => {
  let cwd: string;
  const pages: { page: string; examples: string[] }[] = [];

  beforeAll(async () => {
    cwd = await smallProject('examples');
    const grid = PUBLISHED_GRID;
    if (hasReference) fs.symlinkSync(grid, path.join(cwd, 'metric_grid_13_13_10_public.npy'));
    for (const page of HELP_PAGES) {
      const ran = await mdpipe([...page, '--help'], { cwd });
      expectExit(ran, 0);
      pages.push({ page: ['mdpipe', ...page].join(' '), examples: examplesOf(ran.stdout) });
    }
  }, 60_000);

  test('every help page has examples', () => {
    for (const { page, examples } of pages) expect({ page, count: examples.length > 0 }).toEqual({ page, count: true });
  });

  test('each example exits 0', async () => {
    const failures: string[] = [];
    let ran = 0;
    for (const { examples } of pages) {
      for (const line of examples) {
        if (line.includes('metric_grid_13_13_10_public.npy') && !hasReference) {
          process.stderr.write(`skipping the example "${line}": ../shared absent (${REFERENCE})\n`);
          continue;
        }
        const result = await shell(line, { cwd });
        ran++;
        if (result.code !== 0) failures.push(`${line}\n  exit ${result.code}\n  ${result.stderr.trim().split('\n').slice(-3).join('\n  ')}`);
      }
    }
    expect(failures).toEqual([]);
    expect(ran).toBeGreaterThan(25);
  }, 240_000);
});
