/**
 * `npm run test:faults`: the queue's Redis killed (SIGKILL) while `run --queue` waits on its jobs. The
 * coordinator gives up reconnecting after QUEUE_RECONNECT_MS (BullMQ alone reconnects for ever, so the
 * run hung), says so naming host:port and the fix, and exits 1; the results stored before the run stay,
 * nothing of the half-done run is stored, and a local run afterwards builds only what was missing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../pipeline/events.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { expectExit, mdpipe, parseJson, SMALL_PROJECT_TASKS, smallProject, spawnMdpipe } from '../cli/support.js';

describeWithRedis('run --queue when the queue Redis dies mid-run (real redis-server)', () => {
  let server: RedisServer | undefined;
  let project = '';
  afterAll(async () => {
    await server?.stop();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  test('a clear error naming host:port and the fix, exit 1 within seconds; stored results stay', async () => {
    project = await smallProject('queue-death');
    const basic = await mdpipe(['run', 'export:basic', '--json'], { cwd: project });
    expectExit(basic, 0);
    const stored = parseJson<RunSummary>(basic).executed;
    expect(stored).toBe(SMALL_PROJECT_TASKS / 2);

    server = await startRedisServer();
    // No worker: noisy's parse jobs stay queued, so the run is waiting on Redis when it dies.
    const run = spawnMdpipe(['run', '--queue', server.url(), '--no-progress'], { cwd: project });
    await run.waitForStderr(/no worker is taking jobs from queue/);
    const killedAt = Date.now();
    await server.kill();
    const ended = await run.done;
    const took = Date.now() - killedAt;
    expect(ended.code).toBe(1);
    expect(took).toBeLessThan(20_000);
    expect(ended.stderr).toContain(`error: --queue: lost the queue's Redis at 127.0.0.1:${server.port}`);
    expect(ended.stderr).toContain(`fix: check that Redis runs at 127.0.0.1:${server.port}`);
    expect(ended.stderr).not.toContain(server.password);

    const info = parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: project }));
    expect(info.records).toBe(stored);
    const after = await mdpipe(['run', '--json'], { cwd: project });
    expectExit(after, 0);
    expect(parseJson<RunSummary>(after)).toMatchObject({ ok: true, executed: SMALL_PROJECT_TASKS / 2, cached: SMALL_PROJECT_TASKS / 2 });
    expect(fs.existsSync(path.join(project, 'out/noisy/dataframe.csv'))).toBe(true);
    process.stderr.write(`queue Redis killed: the coordinator exited ${ended.code} ${took} ms later\n`);
  }, 120_000);
});
