/**
 * `npm run test:faults`: distributed execution at full size on a real redis-server. Both synthetic
 * collections (2 x 1,690 checkpoint folders) built by two workers are byte-identical to a local build, and
 * stay so when one worker is SIGKILLed mid-run (its job is re-queued by another worker's stalled check).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../pipeline/events.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { expectExit, mdpipe, parseJson, spawnMdpipe, tempDir, type Spawned } from '../cli/support.js';
import { outputsOf, startWorkerProcess, type RemoteSummary } from './support.js';

const FULL_TASKS = 2 * (1690 + 4);

describeWithRedis('run --queue at full size (real redis-server)', () => {
  let server: RedisServer;
  let project: string;
  let local: Record<string, string>;
  const workers: Spawned[] = [];
  const startWorker = (): Promise<Spawned> => startWorkerProcess(server.url(), project, workers);
  const reset = (): void => {
    fs.rmSync(path.join(project, 'out'), { recursive: true, force: true });
    fs.rmSync(path.join(project, '.mdpipe'), { recursive: true, force: true });
  };

  beforeAll(async () => {
    server = await startRedisServer();
    project = tempDir('queue-full');
    for (const c of ['basic', 'noisy']) {
      expectExit(await mdpipe(['synth', '--out', `raw/${c}`, '--collection', c, '--config-out', 'mdpipe.config.json', '--no-progress'], { cwd: project }), 0);
    }
    const ran = await mdpipe(['run', '--json'], { cwd: project });
    expectExit(ran, 0);
    expect(parseJson<RunSummary>(ran).executed).toBe(FULL_TASKS);
    local = outputsOf(project);
  }, 300_000);
  afterEach(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.splice(0).map((w) => w.done));
  });
  afterAll(async () => {
    await server?.stop();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  test('two workers build both full-size collections byte-identical to a local build', async () => {
    reset();
    await Promise.all([startWorker(), startWorker()]);
    const ran = await mdpipe(['run', '--json', '--queue', server.url()], { cwd: project });
    expectExit(ran, 0);
    const summary = parseJson<RemoteSummary>(ran);
    expect(summary).toMatchObject({ ok: true, executed: FULL_TASKS, failed: 0 });
    expect(summary.tasks.filter((t) => t.worker !== undefined)).toHaveLength(2 * 1690);
    expect(new Set(summary.tasks.map((t) => t.worker).filter(Boolean)).size).toBe(2);
    expect(outputsOf(project)).toEqual(local);
  }, 300_000);

  test('a worker SIGKILLed mid-run: its job goes to the other worker, the run completes identical', async () => {
    reset();
    const [doomed, survivor] = await Promise.all([startWorker(), startWorker()]);
    const started = Date.now();
    const run = spawnMdpipe(['run', '--json', '--queue', server.url(), '--no-progress'], { cwd: project });
    // The doomed worker finished one job and has taken the next: kill it in the middle of that one.
    await doomed.waitForStderr(/job \S+: \d+ tasks/);
    doomed.child.kill('SIGKILL');
    const ended = await run.done;
    expectExit(ended, 0);
    const summary = parseJson<RemoteSummary>(ended);
    expect(summary).toMatchObject({ ok: true, executed: FULL_TASKS, failed: 0 });
    expect(outputsOf(project)).toEqual(local);
    // Every task the survivor did not run was run by the doomed worker before it died.
    const survivorName = `:${survivor.child.pid}`;
    const doomedName = `:${doomed.child.pid}`;
    const ranBy = (name: string): number => summary.tasks.filter((t) => t.worker?.endsWith(name)).length;
    expect(ranBy(survivorName) + ranBy(doomedName)).toBe(2 * 1690);
    expect(ranBy(survivorName)).toBeGreaterThan(0);
    process.stderr.write(`worker SIGKILLed mid-run: the run took ${Date.now() - started} ms; the survivor ran ${ranBy(survivorName)} tasks\n`);
  }, 300_000);

  test('SIGTERM mid-run: the worker finishes the job it holds, exits 0, and the other worker does the rest', async () => {
    reset();
    const [stopping, other] = await Promise.all([startWorker(), startWorker()]);
    const run = spawnMdpipe(['run', '--json', '--queue', server.url(), '--no-progress'], { cwd: project });
    await stopping.waitForStderr(/job \S+: \d+ tasks/);
    stopping.child.kill('SIGTERM');
    const stopped = await stopping.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/worker .+ stopped/);
    const ended = await run.done;
    expectExit(ended, 0);
    const summary = parseJson<RemoteSummary>(ended);
    expect(summary).toMatchObject({ ok: true, executed: FULL_TASKS, failed: 0 });
    expect(outputsOf(project)).toEqual(local);
    // Every job the stopping worker logged as done is in the summary under its name: none was lost or redone.
    const logged = [...stopped.stderr.matchAll(/job \S+: (\d+) tasks/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(summary.tasks.filter((t) => t.worker?.endsWith(`:${stopping.child.pid}`)).length).toBe(logged);
    expect(summary.tasks.filter((t) => t.worker?.endsWith(`:${other.child.pid}`)).length).toBe(2 * 1690 - logged);
  }, 300_000);
});
