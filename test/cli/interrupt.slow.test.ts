/**
 * Ctrl-C: exit 130 and a message saying what happened and what to do; nothing half-done is kept, and the
 * next command continues from what finished.
 */
import fs from 'node:fs';
import path from 'node:path';
import { acquireProjectLock } from '../../pipeline/lock.js';
import { expectExit, mdpipe, parseJson, spawnMdpipe, tempDir } from './support.js';

const count = (text: string): number => Number(text.replace(/,/g, ''));
const fast = { MDPIPE_PROGRESS_INTERVAL_MS: '100' };

describe('Ctrl-C', () => {
  let dir: string;
  beforeAll(async () => {
    // A full collection (1,690 folders): a cold run lasts long enough to be interrupted.
    dir = tempDir('interrupt');
    expectExit(await mdpipe(['synth', '--out', 'raw/basic', '--config-out', 'mdpipe.config.json', '--no-progress'], { cwd: dir }), 0);
  }, 120_000);

  test('during a run: exit 130 with the counts; the next run reuses exactly the tasks that finished', async () => {
    const run = spawnMdpipe(['run', '--no-progress'], { cwd: dir, env: fast });
    await run.waitForStderr(/progress: /);
    run.child.kill('SIGINT');
    const ran = await run.done;
    expectExit(ran, 130);
    const m = /interrupted: ([\d,]+) tasks? finished, ([\d,]+) not started; run again to continue/.exec(ran.stderr);
    expect(m).not.toBeNull();
    const [finished, notStarted] = [count(m![1]), count(m![2])];
    expect(finished + notStarted).toBe(1690 + 4);
    // The engine hands the event loop a turn between tasks, so Ctrl-C stops a cold run part-way through
    // its 1,690 checkpoint tasks (not after all of them, as when it ran them without yielding).
    expect(notStarted).toBeGreaterThan(4);
    expect(ran.stdout).toMatch(new RegExp(`^mdpipe: interrupted after .*, at ${m![1]} of ${(1690 + 4).toLocaleString('en-US')} tasks: `, 'm'));

    const again = await mdpipe(['run', '--json'], { cwd: dir });
    expectExit(again, 0);
    const summary = parseJson<{ ok: boolean; executed: number; cached: number }>(again);
    expect(summary.ok).toBe(true);
    expect(summary.cached).toBe(finished);
    expect(summary.executed).toBe(notStarted);

    // The resumed build's outputs are byte for byte those of a clean build (own cache, own outputs).
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'mdpipe.config.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'clean.config.json'), JSON.stringify({ ...config, outDir: 'out-clean', cacheDir: '.mdpipe-clean' }));
    const clean = await mdpipe(['run', '--json', '--config', 'clean.config.json'], { cwd: dir });
    expectExit(clean, 0);
    expect(parseJson<{ executed: number }>(clean).executed).toBe(1690 + 4);
    const outputs = fs.readdirSync(path.join(dir, 'out-clean/basic')).sort();
    expect(outputs).toEqual(['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json']);
    for (const name of outputs) {
      expect(fs.readFileSync(path.join(dir, 'out/basic', name)).equals(fs.readFileSync(path.join(dir, 'out-clean/basic', name)))).toBe(true);
    }
  }, 120_000);

  test('two SIGINTs 1 ms apart (timeout -s INT signals the process and its group) are one interrupt', async () => {
    const out = tempDir('synth-twice');
    const synth = spawnMdpipe(['synth', '--out', 'raw', '--no-progress'], { cwd: out });
    // Signal as soon as writing has begun: on an idle machine the whole tree takes ~2.2 s, and the first
    // progress line comes ~2 s in, so waiting for it raced the end of the run.
    for (let waited = 0; !fs.existsSync(path.join(out, 'raw')) && waited < 30_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    synth.child.kill('SIGINT');
    synth.child.kill('SIGINT');
    const ran = await synth.done;
    expectExit(ran, 130);
    expect(ran.stderr).not.toContain('interrupted again');
    expect(ran.stderr).toMatch(/interrupted: [\d,]+ folders? written/);
  }, 60_000);

  test('while waiting for the cache lock (--wait): exit 130, nothing run', async () => {
    const lock = await acquireProjectLock(path.join(dir, '.mdpipe'), { command: 'the test holding the lock' });
    const run = spawnMdpipe(['run', '--wait', '--force', '--log-level', 'debug'], { cwd: dir });
    try {
      // Discovery is logged (debug) before the lock is requested; then it polls for the lock.
      await run.waitForStderr(/found [\d,]+ tasks/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(run.child.exitCode).toBeNull();
      run.child.kill('SIGINT');
      const ran = await run.done;
      expectExit(ran, 130);
      expect(ran.stderr).toContain('interrupted while waiting for the cache lock: nothing was run');
    } finally {
      run.child.kill('SIGKILL');
      await lock.release();
    }
    const after = await mdpipe(['run', '--json'], { cwd: dir });
    expect(parseJson<{ executed: number }>(after).executed).toBe(0);
  }, 60_000);

  test('during run --force, at several points: every result valid before stays valid', async () => {
    expectExit(await mdpipe(['run', '--no-progress'], { cwd: dir }), 0);
    const records = async (): Promise<number> => parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir })).records;
    const before = await records();
    expect(before).toBeGreaterThanOrEqual(1690 + 4);
    // Points: before the first task (during discovery and loading), at the first progress line (part-way
    // through the checkpoint tasks), and at the third (later, with batches committed by then).
    const points: { name: string; at: (run: ReturnType<typeof spawnMdpipe>) => Promise<void> }[] = [
      { name: 'at start', at: async () => new Promise((resolve) => setTimeout(resolve, 150)) },
      { name: 'first progress', at: (run) => run.waitForStderr(/progress: /) },
      { name: 'third progress', at: (run) => run.waitForStderr(/(progress: [^\n]*\n[^]*){3}/) },
    ];
    for (const point of points) {
      const run = spawnMdpipe(['run', '--force', '--no-progress'], { cwd: dir, env: fast });
      await point.at(run);
      run.child.kill('SIGINT');
      const ran = await run.done;
      // Exit 130 when the signal came in time (killed by it if it came before the handler was installed);
      // 0 if the forced run had already finished.
      expect([point.name, [0, 130].includes(ran.code ?? -1) || ran.signal === 'SIGINT']).toEqual([point.name, true]);
      expect([point.name, await records()]).toEqual([point.name, before]);
      const again = parseJson<{ executed: number; cached: number }>(await mdpipe(['run', '--json'], { cwd: dir }));
      expect([point.name, again.executed]).toEqual([point.name, 0]);
    }
  }, 180_000);

  test('during synth: exit 130 saying how far it got; the same command again finishes the tree', async () => {
    const cwd = tempDir('interrupt-synth');
    const synth = spawnMdpipe(['synth', '--out', 'raw', '--collection', 'noisy'], { cwd, env: fast });
    await synth.waitForStderr(/progress: /);
    synth.child.kill('SIGINT');
    const ran = await synth.done;
    expectExit(ran, 130);
    const m = /interrupted: ([\d,]+) folders? written to raw, each complete; run the same command again to finish/.exec(ran.stderr);
    expect(m).not.toBeNull();
    expect(count(m![1])).toBeLessThan(1690);
    const again = await mdpipe(['synth', '--out', 'raw', '--collection', 'noisy', '--no-progress'], { cwd });
    expectExit(again, 0);
    expect(again.stdout).toContain('wrote 1,690 checkpoint folders');
    expect(fs.readdirSync(path.join(cwd, 'raw/different_knobs_subset_noisy_01'))).toHaveLength(13);
  }, 60_000);
});
