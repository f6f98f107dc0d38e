/**
 * `--shared-cache` as a user drives it, against a real redis-server with a password: two projects over
 * the same raw files (the second with an empty local cache, as on another machine), the three ways to
 * name the cache (flag, MDPIPE_SHARED_CACHE, `sharedCache`), the read-only verbs, an unreachable server
 * with and without --shared-cache-required, and the password in none of the output of any of it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunSummary } from '../../pipeline/events.js';
import { describeWithRedis, freePort, startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { basicFolder, expectExit, mdpipe, parseJson, SMALL_PROJECT_TASKS, smallProject, spawnMdpipe, type Ran } from './support.js';
import { lines, stop, until } from './watch-support.js';

describeWithRedis('run --shared-cache (real redis-server)', () => {
  let server: RedisServer;
  let a: string;
  let b: string;
  const everything: Ran[] = [];
  const run = async (args: string[], cwd: string, env: Record<string, string> = {}): Promise<Ran> => {
    const ran = await mdpipe(args, { cwd, env });
    everything.push(ran);
    return ran;
  };
  const files = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const c of ['basic', 'noisy']) {
      for (const name of fs.readdirSync(path.join(dir, 'out', c))) out[`${c}/${name}`] = fs.readFileSync(path.join(dir, 'out', c, name)).toString('base64');
    }
    return out;
  };

  beforeAll(async () => {
    server = await startRedisServer();
    a = await smallProject('shared-a');
    // Project b: the same raw files (absolute paths, as on a shared file system), its own empty cache.
    b = fs.mkdtempSync(path.join(path.dirname(a), 'mdpipe-shared-b-'));
    const config = JSON.parse(fs.readFileSync(path.join(a, 'mdpipe.config.json'), 'utf8'));
    for (const c of Object.values(config.collections) as { raw: string }[]) c.raw = path.resolve(a, c.raw);
    fs.writeFileSync(path.join(b, 'mdpipe.config.json'), JSON.stringify({ ...config, sharedCache: server.url() }));
  });
  afterAll(async () => {
    await server?.stop();
    for (const dir of [a, b]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a second project with an empty local cache executes nothing and writes identical outputs', async () => {
    const first = await run(['run', '--json', '--shared-cache', server.url()], a);
    expectExit(first, 0);
    expect(parseJson<RunSummary>(first)).toMatchObject({ executed: SMALL_PROJECT_TASKS, cached: 0 });

    // b names the cache in its config (sharedCache) and here through MDPIPE_SHARED_CACHE, which wins.
    const second = await run(['run', '--json'], b, { MDPIPE_SHARED_CACHE: server.url() });
    expectExit(second, 0);
    expect(parseJson<RunSummary>(second)).toMatchObject({ ok: true, executed: 0, cached: SMALL_PROJECT_TASKS });
    expect(second.stderr).not.toMatch(/warn|"level":[4-9]0/);
    expect(files(b)).toEqual(files(a));
  });

  test('status, explain, --dry-run and cache info name the cache without its password', async () => {
    fs.rmSync(path.join(b, '.mdpipe'), { recursive: true, force: true });
    const status = await run(['status', '--json'], b);
    expectExit(status, 0);
    expect(parseJson<{ fresh: number; stale: number }>(status)).toMatchObject({ fresh: SMALL_PROJECT_TASKS, stale: 0 });
    expectExit(await run(['explain', 'grid:basic'], b), 0);
    expectExit(await run(['run', '--dry-run'], b), 0);
    // The read-only verbs wrote nothing locally: the local store holds no result.
    const info = await run(['cache', 'info', '--json'], b);
    expectExit(info, 0);
    expect(parseJson(info)).toMatchObject({ records: 0, sharedCache: `redis://127.0.0.1:${server.port}/0` });
    const text = await run(['cache', 'info'], b);
    expect(text.stdout).toContain(`shared cache: redis://127.0.0.1:${server.port}/0`);
    expectExit(await run(['run', '--debug'], b), 0);
  });

  test('an unreachable cache: one warning naming host:port and exit 0; with --shared-cache-required, exit 1', async () => {
    const dead = await freePort();
    const url = `redis://:${server.password}@127.0.0.1:${dead}/0`;
    fs.rmSync(path.join(a, 'out', 'basic', 'dataframe.csv'));
    const ran = await run(['run', '--json', '--shared-cache', url], a);
    expectExit(ran, 0);
    expect(parseJson<RunSummary>(ran)).toMatchObject({ ok: true, failed: 0 });
    expect(fs.existsSync(path.join(a, 'out', 'basic', 'dataframe.csv'))).toBe(true);
    const warnings = ran.stderr.split('\n').filter((line) => line.includes('shared cache'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`127.0.0.1:${dead}`);
    const required = await run(['run', '--shared-cache', url, '--shared-cache-required'], a);
    expectExit(required, 1);
    expect(required.stderr).toContain(`127.0.0.1:${dead} failed`);
  });

  test('a damaged cache.sqlite is replaced by an empty one with the shared cache still behind it', async () => {
    fs.rmSync(path.join(b, '.mdpipe'), { recursive: true, force: true });
    fs.mkdirSync(path.join(b, '.mdpipe'));
    fs.writeFileSync(path.join(b, '.mdpipe', 'cache.sqlite'), 'not a database at all, '.repeat(400));
    const ran = await run(['run', '--json'], b);
    expectExit(ran, 0);
    expect(ran.stderr).toMatch(/the cache database was damaged \(.*\); moved it aside to \S+cache\.sqlite\.damaged-/);
    // Everything comes from Redis: the replacement has the tier the damaged store had.
    expect(parseJson<RunSummary>(ran)).toMatchObject({ ok: true, executed: 0, cached: SMALL_PROJECT_TASKS });
    expect(files(b)).toEqual(files(a));
  });

  test('watch reads and writes the shared cache: its first build executes nothing, and what it rebuilds another project gets', async () => {
    // c: a third machine, an empty local cache, the shared cache named in its config.
    const c = fs.mkdtempSync(path.join(path.dirname(a), 'mdpipe-shared-c-'));
    fs.copyFileSync(path.join(b, 'mdpipe.config.json'), path.join(c, 'mdpipe.config.json'));
    const file = path.join(basicFolder(a, 64, 8, '05'), 'loss_acc.pkl');
    const original = fs.readFileSync(file);
    const w = spawnMdpipe(['watch', '--json', '--quiet-ms', '300'], { cwd: c });
    try {
      await until(w, 'the first build', () => lines(w).length >= 1);
      expect(lines(w)[0]).toMatchObject({ ok: true, executed: 0 });
      // A result lands (another folder's valid file): the watcher rebuilds that folder and its collection.
      fs.writeFileSync(file, fs.readFileSync(path.join(basicFolder(a, 16, 2, '05'), 'loss_acc.pkl')));
      await until(w, 'the rebuild', () => lines(w).slice(1).some((l) => l.ok && l.executed > 0));
    } finally {
      expect([0, 130]).toContain(await stop(w));
    }
    expect(w.output.stderr).not.toContain(server.password);
    try {
      // Project b, its local cache emptied, builds the new data from what the watcher wrote to Redis.
      fs.rmSync(path.join(b, '.mdpipe'), { recursive: true, force: true });
      const after = await run(['run', '--json'], b);
      expectExit(after, 0);
      expect(parseJson<RunSummary>(after)).toMatchObject({ ok: true, executed: 0, cached: SMALL_PROJECT_TASKS });
      expect(files(b)).toEqual(files(c));
    } finally {
      fs.writeFileSync(file, original);
      expectExit(await run(['run', '--json', '--shared-cache', server.url()], a), 0);
      fs.rmSync(c, { recursive: true, force: true });
    }
  }, 120_000);

  test('the password appears in no output of any of the runs above', () => {
    expect(everything.length).toBeGreaterThanOrEqual(9);
    for (const ran of everything) {
      expect(ran.stdout).not.toContain(server.password);
      expect(ran.stderr).not.toContain(server.password);
    }
  });
});
