/**
 * `mdpipe run --queue` and `mdpipe worker` on a real redis-server with a password: two worker processes
 * build a small project byte-identical to a local build, `run --json` names each parse task's worker, a
 * job from another mdpipe version is refused with a clear error, SIGTERM stops a worker cleanly, and a
 * coordinator with no worker says so, then removes its queued jobs on Ctrl-C.
 * The full-size collections and a worker SIGKILLed mid-run are in queue.slow.test.ts (`npm run test:faults`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { toolVersion } from '../../cli/version.js';
import { QUEUE_NAME, type JobData } from '../../remote/protocol.js';
import { connectionOptions } from '../../remote/connection.js';
import { parseRedisUrl } from '../../cache/shared/redis-url.js';
import { PARSE_CODE_VERSION } from '../../tasks/parse.js';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { expectExit, mdpipe, parseJson, SMALL_PROJECT_TASKS, smallProject, spawnMdpipe, type Spawned } from '../cli/support.js';
import { outputsOf, startWorkerProcess, type RemoteSummary } from './support.js';

describeWithRedis('run --queue with mdpipe workers (real redis-server)', () => {
  let server: RedisServer;
  let project: string;
  const workers: Spawned[] = [];
  const startWorker = (): Promise<Spawned> => startWorkerProcess(server.url(), project, workers);

  beforeAll(async () => {
    server = await startRedisServer();
    project = await smallProject('queue');
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    await server?.stop();
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  test('two workers build the project byte-identical to a local build; --json names the worker of each parse task', async () => {
    expectExit(await mdpipe(['run', '--json'], { cwd: project }), 0);
    const local = outputsOf(project);
    fs.rmSync(path.join(project, 'out'), { recursive: true });
    fs.rmSync(path.join(project, '.mdpipe'), { recursive: true });

    const [w1, w2] = [await startWorker(), await startWorker()];
    const ran = await mdpipe(['run', '--json', '--queue', server.url()], { cwd: project });
    expectExit(ran, 0);
    const summary = parseJson<RemoteSummary>(ran);
    expect(summary).toMatchObject({ ok: true, executed: SMALL_PROJECT_TASKS, failed: 0 });
    const parses = summary.tasks.filter((t) => t.id.startsWith('parse:'));
    expect(parses).toHaveLength(36);
    for (const t of parses) expect(t.worker).toMatch(/^.+:\d+$/);
    for (const t of summary.tasks.filter((t) => !t.id.startsWith('parse:'))) expect(t.worker).toBeUndefined();
    const names = new Set(parses.map((t) => t.worker));
    for (const name of names) expect([w1.child.pid, w2.child.pid].map(String)).toContain(name!.split(':').pop());
    expect(outputsOf(project)).toEqual(local);
    for (const out of [ran.stdout, ran.stderr, w1.output.stderr, w2.output.stderr]) expect(out).not.toContain(server.password);
  });

  test('a worker that read other bytes than the coordinator hashed fails the task; nothing is returned', async () => {
    const { RemoteExecutor } = await import('../../remote/coordinator.js');
    const { loadConfig } = await import('../../config/load.js');
    const { defineDataset } = await import('../../tasks/index.js');
    const executor = await RemoteExecutor.open({ url: server.url(), source: 'test', toolVersion: toolVersion(), onWarning: () => {} });
    try {
      const definition = executor.wrap(defineDataset(loadConfig({ cwd: project })));
      const task = definition.partitioned[0].partition('different_knobs_subset_10/bs_16/normal/ResNet18_w2/metrics');
      if ('skip' in task) throw new Error(task.skip);
      // Its run goes to the queue, never to the engine's offload thread (which would bypass the workers).
      expect(task.offload).toBeUndefined();
      const files = new Map(task.files.map((f) => [f.name, fs.existsSync(f.path) ? fs.readFileSync(f.path) : null]));
      const run = (): Promise<unknown> =>
        Promise.resolve(task.run({ id: task.id, params: task.params, files, upstream: new Map(), signal: new AbortController().signal, note: () => {}, previous: null }));
      // Same bytes: the worker's value comes back.
      await expect(run()).resolves.toHaveProperty('value.coords', { bs: 16, width: 2, data: '10' });
      // The coordinator hashed other bytes than the worker read (a file changed, another file system).
      files.set(task.files[0].name, Buffer.from('tampered'));
      await expect(run()).rejects.toThrow(new RegExp(`read ${task.files[0].path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as [0-9a-f]{64} but this machine hashed [0-9a-f]{64}; nothing was stored`));
    } finally {
      await executor.close();
    }
  });

  test('a job from another mdpipe version is refused with a clear error, not run', async () => {
    const connection = connectionOptions(parseRedisUrl(server.url(), 'test'));
    const queue = new Queue<JobData>(QUEUE_NAME, { connection });
    const events = new QueueEvents(QUEUE_NAME, { connection });
    try {
      await events.waitUntilReady();
      const folder = fs.realpathSync(project);
      const job = await queue.add('batch', {
        runId: 'test-other-version',
        toolVersion: '99.0.0',
        tasks: [{ id: 'parse:basic/bs16-w2-d10', kind: 'parse', codeVersion: PARSE_CODE_VERSION, params: { bs: 16, width: 2, data: '10' }, folder }],
      });
      await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow(`this worker runs mdpipe ${toolVersion()} and the job comes from mdpipe 99.0.0`);
      const job2 = await queue.add('batch', {
        runId: 'test-other-code',
        toolVersion: toolVersion(),
        tasks: [{ id: 'parse:basic/bs16-w2-d10', kind: 'parse', codeVersion: 'old', params: { bs: 16, width: 2, data: '10' }, folder }],
      });
      await expect(job2.waitUntilFinished(events, 20_000)).rejects.toThrow(`parse code is version ${PARSE_CODE_VERSION} and the job's is old`);
      // Refused at once: an UnrecoverableError is not retried.
      expect((await queue.getJob(job2.id!))?.attemptsMade).toBe(1);
    } finally {
      await events.close();
      await queue.close();
    }
  });

  test('SIGTERM stops a worker cleanly (exit 0, says so)', async () => {
    const worker = workers[0];
    worker.child.kill('SIGTERM');
    const ended = await worker.done;
    expect(ended.code).toBe(0);
    expect(ended.stderr).toContain('SIGTERM: finishing running jobs');
    expect(ended.stderr).toMatch(/worker .+ stopped/);
  });

  test('no worker: the coordinator says so within seconds; Ctrl-C removes its queued jobs', async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.done));
    fs.rmSync(path.join(project, '.mdpipe'), { recursive: true });
    const started = Date.now();
    const run = spawnMdpipe(['run', '--queue', server.url(), '--no-progress'], { cwd: project });
    await run.waitForStderr(/no worker is taking jobs from queue/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(run.output.stderr).toContain(`127.0.0.1:${server.port}`);
    expect(run.output.stderr).not.toContain(server.password);
    const queue = new Queue(QUEUE_NAME, { connection: connectionOptions(parseRedisUrl(server.url(), 'test')) });
    try {
      expect(await queue.getWaitingCount()).toBeGreaterThan(0);
      run.child.kill('SIGINT');
      const ended = await run.done;
      expect(ended.code).toBe(130);
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
    }
  });
});
