/**
 * Issue 14, points 2, 3, 8 and 11, through bin/mdpipe.js: logs for people when stderr is not a terminal,
 * each error once; the summary names what executed; `run --json` gives failed tasks their error; status
 * says an edited output will be restored; sizes need a unit; looking at an empty folder creates nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { basicFolder, expectExit, mdpipe, parseJson, smallProject, tempDir } from './support.js';

function breakFile(dir: string): string {
  const file = path.join(basicFolder(dir, 16, 2, '05'), 'loss_acc_test.pkl');
  fs.writeFileSync(file, 'garbage');
  return file;
}

describe('a failing run, stderr not a terminal', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await smallProject('failing');
    breakFile(dir);
  });

  test('plain lines, the error printed once, no JSON; the summary names what executed', async () => {
    const fresh = await smallProject('failing-first');
    breakFile(fresh);
    const ran = await mdpipe(['run'], { cwd: fresh });
    expectExit(ran, 1);
    const all = ran.stdout + ran.stderr;
    expect(all.match(/does not start with a pickle protocol header/g)).toHaveLength(1);
    expect(ran.stderr).not.toMatch(/^\{/m);
    expect(ran.stdout).toContain('executed:\n  parse:basic  17: bs16-w2-d10, bs16-w8-d05, bs16-w8-d10, bs16-w32-d05, bs16-w32-d10 (+12 more)');
    expect(ran.stdout).toMatch(/^ {2}parse:noisy {2}18: .* \(\+13 more\)$/m);
  });

  test('--log-format json (or MDPIPE_LOG_FORMAT=json) gives JSON lines; --json gives failed tasks an error', async () => {
    const ran = await mdpipe(['run', '--json', '--log-format', 'json'], { cwd: dir });
    expectExit(ran, 1);
    const lines = ran.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string; error?: string });
    const errors = lines.filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toBeUndefined(); // the message is the error, not repeated as a field
    const summary = parseJson<{ tasks: { id: string; status: string; error?: string }[] }>(ran);
    const failed = summary.tasks.filter((t) => t.status === 'failed');
    expect(failed).toEqual([{ id: 'parse:basic/bs16-w2-d05', status: 'failed', ms: expect.any(Number), error: expect.stringContaining('loss_acc_test.pkl') }]);
    const env = await mdpipe(['run', '--json'], { cwd: dir, env: { MDPIPE_LOG_FORMAT: 'json' } });
    expect(JSON.parse(env.stderr.trim().split('\n')[0])).toMatchObject({ level: 50 });
  });

  test('--debug keeps the details: debug lines with the fields their message does not say', async () => {
    const ran = await mdpipe(['run', '--debug'], { cwd: dir });
    expectExit(ran, 1);
    expect(ran.stderr).toMatch(/^debug: found 46 tasks \[counts=\{"parse":36,.*"plot":2\}\]\ndebug: checking 44 tasks/m);
    // The reason is a field the message does not say. So is the time, unless it is 0 ms and the message has a
    // 0 in it ("byte 0 is 0x67"): the line then leaves it out, as it leaves out whatever it already says.
    expect(ran.stderr).toMatch(/^debug: task parse:basic\/bs16-w2-d05 failed: .* \[(ms=\d+ )?reason=no stored result/m);
  });
});

describe('status, cache and clean', () => {
  test('status says an edited output will be restored, and run restores it', async () => {
    const dir = await smallProject('restore');
    expectExit(await mdpipe(['run', '--quiet'], { cwd: dir }), 0);
    const csv = path.join(dir, 'out/basic/dataframe.csv');
    const good = fs.readFileSync(csv);
    fs.appendFileSync(csv, 'edited by hand\n');
    const status = await mdpipe(['status'], { cwd: dir });
    expectExit(status, 0);
    expect(status.stdout).not.toContain('would do nothing');
    expect(status.stdout).toContain('`mdpipe run` restores them:\n  export:basic: basic/dataframe.csv was changed since it was written: would restore it from the cache');
    expectExit(await mdpipe(['run', '--quiet'], { cwd: dir }), 0);
    expect(fs.readFileSync(csv)).toEqual(good);
  });

  test('cache gc --max-size needs a unit; cache info and clean in an empty folder create nothing', async () => {
    const dir = tempDir('empty');
    const gc = await mdpipe(['cache', 'gc', '--max-size', '10'], { cwd: dir });
    expectExit(gc, 2);
    expect(gc.stderr).toContain('a size needs a unit: 10MB, 10GB or 10B (bytes).');
    const info = await mdpipe(['cache', 'info'], { cwd: dir });
    expectExit(info, 0);
    expect(info.stdout).toContain('no cache at .mdpipe: nothing was built here yet');
    expectExit(await mdpipe(['clean'], { cwd: dir }), 0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

test('without a config, a folder holding only the basic collection builds it and says noisy was not found', async () => {
  const dir = tempDir('only-basic');
  expectExit(await mdpipe(['synth', '--axes', 'small', '--out', 'pretrained_model_collections/basic_collection'], { cwd: dir }), 0);
  const ran = await mdpipe(['run', '--quiet'], { cwd: dir });
  expectExit(ran, 0);
  expect(ran.stderr).toContain('note: collection noisy of the built-in configuration not found (no folder pretrained_model_collections/noisy_collection): building the others');
  expect(fs.existsSync(path.join(dir, 'out/basic/dataframe.csv'))).toBe(true);
});

test('folders outside the axes: the summary names the first few and how to include them (point 7)', async () => {
  const dir = await smallProject('outside');
  const file = path.join(dir, 'mdpipe.config.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  config.collections.basic.axes.width = config.collections.basic.axes.width.filter((w: number) => w !== 32);
  fs.writeFileSync(file, JSON.stringify(config));
  const ran = await mdpipe(['run'], { cwd: dir });
  expectExit(ran, 0);
  expect(ran.stdout).toMatch(/^ {4}different_knobs_subset_\d+\/bs_\d+\/normal\/ResNet18_w32\/metrics: width 32 is not on the configured width axis$/m);
  expect(ran.stdout).toContain('    ... and 3 more (outsideAxes in report.json)\n');
  expect(ran.stdout).toContain('    to include them, add the value to collections.basic.axes, or remove that axis to discover it from the tree\n');
});
