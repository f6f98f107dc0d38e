/**
 * `mdpipe demo`, what `npm start` runs: in an empty folder it synthesizes both collections into ./demo and
 * builds them; the second time it executes nothing; with a configuration present it builds that instead.
 * Small axes (MDPIPE_DEMO_AXES=small) keep it quick; the full demo is measured in the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BIN, expectExit, mdpipe, parseJson, SMALL_PROJECT_TASKS, smallProject, tempDir } from './support.js';

const small = { MDPIPE_DEMO_AXES: 'small' };

describe('mdpipe demo', () => {
  test('in an empty folder: writes a demo tree and both dataframes; run again, executes nothing', async () => {
    const cwd = tempDir('demo');
    const first = await mdpipe(['demo'], { cwd, env: small });
    expectExit(first, 0);
    expect(first.stderr).toContain('writing a synthetic raw tree of both collections (small axes) to demo/');
    for (const c of ['basic', 'noisy']) {
      const csv = fs.readFileSync(path.join(cwd, 'demo/out', c, 'dataframe.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + 18);
      expect(first.stdout).toContain(`${c}: demo/out/${c}/  dataframe.csv (18 rows)`);
    }
    expect(first.stdout).toMatch(new RegExp(`^mdpipe: done in .*: ${SMALL_PROJECT_TASKS} executed · 0 cached`, 'm'));
    expect(first.stdout).toContain(`node ${BIN} status --config demo/mdpipe.config.json`);
    expect(JSON.parse(fs.readFileSync(path.join(cwd, 'demo/mdpipe.config.json'), 'utf8')).collections.noisy.raw).toBe('raw/noisy');

    const second = await mdpipe(['demo', '--json'], { cwd, env: small });
    expectExit(second, 0);
    expect(parseJson(second)).toMatchObject({ ok: true, executed: 0, cached: SMALL_PROJECT_TASKS });
    expect(second.stderr).not.toContain('writing a synthetic raw tree');

    // The printed next step works as written.
    const status = await mdpipe(['status', '--config', 'demo/mdpipe.config.json'], { cwd });
    expectExit(status, 0);
    expect(status.stdout).toContain(`all ${SMALL_PROJECT_TASKS} tasks are fresh`);
  });

  test('with a mdpipe.config.json present, it builds that configuration and writes no demo tree', async () => {
    const cwd = await smallProject('demo-own');
    const ran = await mdpipe(['demo', '--json'], { cwd, env: small });
    expectExit(ran, 0);
    expect(parseJson(ran)).toMatchObject({ ok: true, executed: SMALL_PROJECT_TASKS });
    expect(fs.existsSync(path.join(cwd, 'demo'))).toBe(false);
    expect(fs.existsSync(path.join(cwd, 'out/noisy/dataframe.csv'))).toBe(true);
  });
});
