/**
 * `mdpipe watch` while 30 checkpoint folders land file by file, each file in parts with pauses, four
 * folders at a time: nothing being written is reported as failed, and the outputs end byte for byte as a
 * clean build's. About 30 s, so it runs with `npm run test:faults`, not `npm test`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expectExit, mdpipe, parseJson, smallProject, spawnMdpipe } from './support.js';
import { checkpointFolders, lines, sameOutputs, stop, until } from './watch-support.js';

describe('mdpipe watch', () => {
  test('checkpoint folders written file by file while it runs: none reported failed, outputs as a clean build, stops on SIGINT', async () => {
    const dir = await smallProject('watch-land');
    // Keep three folders per collection; the other 30 land while watch runs.
    const staging = path.join(dir, 'staging');
    const landing = checkpointFolders(dir).filter((rel) => !/bs_16[/\\]/.test(rel));
    expect(landing.length).toBeGreaterThanOrEqual(20);
    for (const rel of landing) {
      fs.mkdirSync(path.dirname(path.join(staging, rel)), { recursive: true });
      fs.renameSync(path.join(dir, rel), path.join(staging, rel));
    }
    const w = spawnMdpipe(['watch', '--quiet-ms', '1500', '--json'], { cwd: dir });
    try {
      await until(w, 'the first build', () => lines(w).length >= 1);
      expect(lines(w)[0]).toMatchObject({ ok: true, failed: 0 });

      // Four writers at once, each folder made with one recursive mkdir (as os.makedirs does), each file
      // written in three parts with pauses, so that builds may read files cut short.
      const queue = [...landing];
      const writer = async (): Promise<void> => {
        for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
          const target = path.join(dir, rel);
          fs.mkdirSync(target, { recursive: true });
          for (const name of fs.readdirSync(path.join(staging, rel)).sort()) {
            const bytes = fs.readFileSync(path.join(staging, rel, name));
            const fd = fs.openSync(path.join(target, name), 'w');
            const cuts = [0, Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3), bytes.length];
            for (let i = 0; i < 3; i++) {
              fs.writeSync(fd, bytes.subarray(cuts[i], cuts[i + 1]));
              await sleep(10 + ((i * 17 + name.length) % 30));
            }
            fs.closeSync(fd);
          }
        }
      };
      await Promise.all([writer(), writer(), writer(), writer()]);

      // A clean build of the final tree, with its own cache and outputs.
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'mdpipe.config.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'clean.config.json'), JSON.stringify({ ...config, outDir: 'out-clean', cacheDir: '.mdpipe-clean' }));
      const clean = await mdpipe(['run', '--json', '--config', 'clean.config.json'], { cwd: dir });
      expectExit(clean, 0);
      expect(parseJson<{ executed: number }>(clean).executed).toBe(2 * (18 + 4));

      // A build publishes its outputs before it prints its line: wait for both (CI once saw the outputs
      // equal while the last build's line, with 4 of the parse tasks, was still to come).
      const parsed = (): number => new Set(lines(w).flatMap((l) => l.tasks.filter((t) => t.status === 'executed' && t.id.startsWith('parse:')).map((t) => t.id))).size;
      await until(w, 'outputs equal to the clean build, every landed folder parsed', () => sameOutputs(dir, 'out', 'out-clean') && parsed() === 36);
      const all = lines(w);
      expect(all.filter((l) => l.failed > 0)).toEqual([]);
      expect(w.output.stderr).not.toMatch(/"level":50/);
      expect(parsed()).toBe(36);
    } finally {
      expect([0, 130]).toContain(await stop(w));
    }
    // Stopped cleanly: the lock is free and the cache holds every result.
    const after = await mdpipe(['run', '--json'], { cwd: dir });
    expectExit(after, 0);
    expect(parseJson<{ executed: number }>(after).executed).toBe(0);
  }, 120_000);

  test('SIGTERM is handled like Ctrl-C: between builds exit 0, during one 143 after storing; the lock released, nothing half-written', async () => {
    const dir = await smallProject('watch-term');
    const idle = spawnMdpipe(['watch', '--json'], { cwd: dir });
    await until(idle, 'the first build', () => lines(idle).length >= 1);
    idle.child.kill('SIGTERM');
    const idleEnded = await idle.done;
    expect(idleEnded.code).toBe(0);
    expect(idleEnded.signal).toBeNull();
    expect(idleEnded.stderr).toContain('SIGTERM: stopping');

    // During a build: an empty cache, and SIGTERM as soon as the first task is logged.
    fs.rmSync(path.join(dir, '.mdpipe'), { recursive: true });
    const busy = spawnMdpipe(['watch', '--json', '--log-level', 'debug', '--jobs', '1'], { cwd: dir });
    await busy.waitForStderr(/parse:/);
    busy.child.kill('SIGTERM');
    const busyEnded = await busy.done;
    // 143 when the signal landed before the build's last task (the usual case); a build that finished in
    // the meantime ends as an idle one (0). Either way it exited by itself, not killed by the signal.
    expect(busyEnded.signal).toBeNull();
    expect([0, 143]).toContain(busyEnded.code);
    process.stderr.write(`watch SIGTERMed mid-build exited ${busyEnded.code}\n`);

    const tmp = fs.readdirSync(path.join(dir, 'out'), { recursive: true }).map(String).filter((name) => name.includes('.tmp-'));
    expect(tmp).toEqual([]);
    // The lock is free (a run is not refused), and what the stopped build stored is not built again.
    const after = await mdpipe(['run', '--json'], { cwd: dir });
    expectExit(after, 0);
    const summary = parseJson<{ executed: number; cached: number }>(after);
    expect(summary.executed + summary.cached).toBe(2 * (18 + 4));
    if (busyEnded.code === 143) expect(summary.cached).toBeGreaterThan(0);
  }, 120_000);
});
