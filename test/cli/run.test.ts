/**
 * `run`, `status`, `explain`, `graph`, `clean` and `cache` as a user drives them: child processes in small
 * synthetic projects, counting what ran from `run --json` rather than only looking at outputs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireProjectLock } from '../../pipeline/lock.js';
import type { RunSummary } from '../../pipeline/events.js';
import { basicFolder, expectExit, mdpipe, parseJson, SMALL_PROJECT_PLOTS, SMALL_PROJECT_TASKS, smallProject, spawnMdpipe } from './support.js';

/** What `run --json` prints; the test below checks its keys at run time too. */
type Summary = RunSummary;

const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function runJson(cwd: string, args: string[] = [], code = 0): Promise<Summary> {
  const ran = await mdpipe(['run', '--json', ...args], { cwd });
  expectExit(ran, code);
  return parseJson<Summary>(ran);
}

const executedIds = (s: Summary): string[] => s.tasks.filter((t) => t.status === 'executed').map((t) => t.id).sort();

describe('run', () => {
  // Built once here, so that no test depends on another having run first (each works in any order).
  let dir: string;
  beforeAll(async () => {
    dir = await smallProject('run');
    await runJson(dir);
  });

  test('--json prints exactly the run summary on stdout; a second run executes nothing', async () => {
    const dir = await smallProject('run-json');
    const ran = await mdpipe(['run', '--json'], { cwd: dir });
    expectExit(ran, 0);
    expect(ran.stdout.trim().split('\n')).toHaveLength(1);
    const first = parseJson<Summary>(ran);
    expect(Object.keys(first)).toEqual(['ok', 'durationMs', 'executed', 'cached', 'failed', 'skipped', 'tasks']);
    expect(first).toMatchObject({ ok: true, executed: SMALL_PROJECT_TASKS, cached: 0, failed: 0, skipped: 0 });
    expect(first.tasks).toHaveLength(SMALL_PROJECT_TASKS);
    for (const task of first.tasks) expect(Object.keys(task)).toEqual(['id', 'status', 'ms']);
    for (const c of ['basic', 'noisy']) {
      const csv = fs.readFileSync(path.join(dir, 'out', c, 'dataframe.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + 18);
    }
    const second = await runJson(dir);
    expect(second).toMatchObject({ ok: true, executed: 0, cached: SMALL_PROJECT_TASKS });
  });

  test('without --json it prints the one-screen summary: counts, where the outputs are, what was missing', async () => {
    fs.rmSync(basicFolder(dir, 256, 32, '05'), { recursive: true });
    const ran = await mdpipe(['run'], { cwd: dir });
    expectExit(ran, 0);
    expect(ran.stdout).toMatch(/^mdpipe: done in .*: 4 executed · 39 cached · 0 failed · 0 skipped$/m);
    expect(ran.stdout).toMatch(/^ {2}basic: out\/basic\/ {2}dataframe\.csv \(18 rows\), dictionary\.json, dictionary\.npy, grid\.npz, report\.json$/m);
    expect(ran.stdout).toContain("what was missing or noted (each collection's report.json has the details):\n  basic: 1 of 18 configurations have no checkpoint folder (their rows are NaN)");
  });

  test('targets: a glob builds only its tasks; a downstream target builds its upstream', async () => {
    const fresh = await smallProject('targets');
    const parses = await runJson(fresh, ['parse:basic/*']);
    expect(parses.executed).toBe(18);
    expect(parses.tasks.every((t) => t.id.startsWith('parse:basic/'))).toBe(true);
    const noisy = await runJson(fresh, ['export:noisy']);
    expect(noisy.executed).toBe(22);
    expect(noisy.tasks.some((t) => t.id.includes('basic'))).toBe(false);
    const rest = await runJson(fresh);
    expect(executedIds(rest)).toEqual(['export:basic', 'grid:basic', 'label:basic', 'rfi:basic']);
    const unknown = await mdpipe(['run', 'grid:basc'], { cwd: fresh });
    expectExit(unknown, 2);
    expect(unknown.stderr).toContain('Did you mean: grid:basic?');
  });

  test('--force re-runs a fresh target and nothing else', async () => {
    await runJson(dir);
    const forced = await runJson(dir, ['--force', 'grid:noisy']);
    expect(executedIds(forced)).toEqual(['grid:noisy']);
  });

  test('--dry-run says what would run and why, and runs nothing', async () => {
    const fresh = await smallProject('dry');
    const text = await mdpipe(['run', '--dry-run'], { cwd: fresh });
    expectExit(text, 0);
    expect(text.stdout).toContain(`would run ${SMALL_PROJECT_TASKS} tasks; 0 fresh (nothing was run or written)`);
    expect(text.stdout).toMatch(/^parse:basic\/\* +18 run$/m);
    expect(text.stdout).toContain('no stored result');
    const json = await mdpipe(['run', '--dry-run', '--json'], { cwd: fresh });
    const plan = parseJson<{ tasks: { id: string; action: string }[]; run: number; fresh: number }>(json);
    expect(plan.run).toBe(SMALL_PROJECT_TASKS);
    expect(fs.existsSync(path.join(fresh, 'out'))).toBe(false);
    expect((await runJson(fresh)).executed).toBe(SMALL_PROJECT_TASKS);
    const after = await mdpipe(['run', '--dry-run'], { cwd: fresh });
    expect(after.stdout).toContain(`nothing would run: ${SMALL_PROJECT_TASKS} tasks fresh`);
  });
});

describe('status and explain', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await smallProject('status');
    await runJson(dir);
  });

  test('status --json: everything fresh after a run, grouped', async () => {
    const ran = await mdpipe(['status', '--json'], { cwd: dir });
    expectExit(ran, 0);
    const status = parseJson<{ fresh: number; stale: number; groups: { group: string; fresh: number; stale: number }[]; tasks: { id: string; state: string }[] }>(ran);
    expect(status.fresh).toBe(SMALL_PROJECT_TASKS);
    expect(status.stale).toBe(0);
    expect(status.groups).toContainEqual({ group: 'parse:basic/*', fresh: 18, stale: 0 });
    expect(status.tasks).toHaveLength(SMALL_PROJECT_TASKS);
  });

  test('changing one file: status lists it as stale, explain names the file and its old and new digest', async () => {
    const target = path.join(basicFolder(dir, 16, 2, '10'), 'hessian.pkl');
    const donor = path.join(basicFolder(dir, 64, 2, '10'), 'hessian.pkl');
    const before = sha256(target);
    fs.copyFileSync(donor, target);
    const after = sha256(target);
    expect(after).not.toBe(before);

    const status = await mdpipe(['status'], { cwd: dir });
    expectExit(status, 0);
    expect(status.stdout).toMatch(/^parse:basic\/\* +17 fresh · 1 stale$/m);
    expect(status.stdout).toContain(`stale   parse:basic/bs16-w2-d10  input hessian.pkl changed: ${target}`);
    const json = parseJson<{ stale: number }>(await mdpipe(['status', '--json'], { cwd: dir }));
    expect(json.stale).toBe(5); // the parse task, then grid, rfi, label and export of basic

    const explain = await mdpipe(['explain', 'parse:basic/bs16-w2-d10'], { cwd: dir });
    expectExit(explain, 0);
    expect(explain.stdout).toContain(`input hessian.pkl changed: ${target} (${before} → ${after})`);
    const data = parseJson<{ state: string; changes: { field: string; old: string; new: string }[] }>(
      await mdpipe(['explain', 'parse:basic/bs16-w2-d10', '--json'], { cwd: dir }),
    );
    expect(data.state).toBe('stale');
    expect(data.changes).toEqual([expect.objectContaining({ field: 'file', old: before, new: after })]);

    const rebuilt = await runJson(dir);
    expect(executedIds(rebuilt)).toContain('parse:basic/bs16-w2-d10');
    const fresh = await mdpipe(['explain', 'parse:basic/bs16-w2-d10'], { cwd: dir });
    expect(fresh.stdout).toMatch(/^parse:basic\/bs16-w2-d10: fresh$/m);
  });

  test('explain of an unknown task suggests one and exits 2', async () => {
    const ran = await mdpipe(['explain', 'rfi:basik'], { cwd: dir });
    expectExit(ran, 2);
    expect(ran.stderr).toContain('there is no task rfi:basik. Did you mean: rfi:basic?');
  });
});

describe('graph', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await smallProject('graph');
  });

  test('--format json lists every task and edge', async () => {
    const ran = await mdpipe(['graph', '--format', 'json'], { cwd: dir });
    expectExit(ran, 0);
    const graph = parseJson<{ nodes: { id: string; kind: string }[]; edges: { source: string; target: string }[] }>(ran);
    expect(Object.keys(graph)).toEqual(['nodes', 'edges']);
    expect(graph.nodes).toHaveLength(SMALL_PROJECT_TASKS + SMALL_PROJECT_PLOTS);
    for (const node of graph.nodes) expect(Object.keys(node)).toEqual(['id', 'kind']);
    // per collection: 18 parse -> grid, grid -> rfi, rfi -> label, grid, rfi, label -> export, and grid, label -> plot
    expect(graph.edges).toHaveLength(2 * (18 + 1 + 1 + 3 + 2));
    expect(graph.edges).toContainEqual({ source: 'label:noisy', target: 'export:noisy' });
  });

  test('--format mermaid draws the kind graph; text by default; targets narrow it', async () => {
    const mermaid = await mdpipe(['graph', '--format', 'mermaid'], { cwd: dir });
    expectExit(mermaid, 0);
    expect(mermaid.stdout.startsWith('flowchart LR\n')).toBe(true);
    expect(mermaid.stdout).toContain('["parse:basic/* (18)"]');
    expect(mermaid.stdout.match(/-->/g)).toHaveLength(2 * 8); // 6 to export, 2 to plot
    const text = await mdpipe(['graph', 'rfi:noisy'], { cwd: dir });
    expect(text.stdout).toBe('parse:noisy/* (18)\ngrid:noisy          <- parse:noisy/*\nrfi:noisy           <- grid:noisy\n');
  });
});

describe('failures and configuration errors', () => {
  test('a corrupted pickle fails its task: exit 1, the summary names the task and the file; fixing it resumes', async () => {
    const dir = await smallProject('fail');
    const bad = path.join(basicFolder(dir, 64, 8, '05'), 'loss_acc.pkl');
    fs.writeFileSync(bad, 'not a pickle');
    const ran = await mdpipe(['run'], { cwd: dir });
    expectExit(ran, 1);
    expect(ran.stdout).toMatch(/^mdpipe: 1 task failed/m);
    expect(ran.stdout).toContain('failed tasks (1):\n  parse:basic/bs64-w8-d05\n');
    expect(ran.stdout).toContain(bad);
    expect(ran.stdout).toContain('basic: not written this time');
    // Printed once (issue 14 point 2): in the summary, not also as a log line on stderr.
    expect((ran.stdout + ran.stderr).split(bad).length - 1).toBe(1);

    const json = await runJson(dir, [], 1);
    expect(json).toMatchObject({ ok: false, executed: 0, failed: 1, skipped: 4 });

    expectExit(await mdpipe(['synth', '--out', 'raw/basic', '--axes', 'small'], { cwd: dir }), 0);
    const fixed = await runJson(dir);
    expect(executedIds(fixed)).toEqual(['export:basic', 'grid:basic', 'label:basic', 'parse:basic/bs64-w8-d05', 'rfi:basic']);
  });

  test('--fail-fast starts no task after the first failure and says so; a plain run then builds the rest', async () => {
    const dir = await smallProject('fail-fast');
    fs.writeFileSync(path.join(basicFolder(dir, 64, 8, '05'), 'loss_acc.pkl'), 'not a pickle');
    // One slot: the tasks start in the graph's order, basic's parses before noisy's.
    const stopped = await runJson(dir, ['--fail-fast', '--jobs', '1'], 1);
    expect(stopped).toMatchObject({ ok: false, failed: 1 });
    expect(stopped.executed + stopped.failed + stopped.skipped).toBe(SMALL_PROJECT_TASKS);
    const notStarted = stopped.tasks.filter((t) => t.status === 'skipped' && t.id.startsWith('parse:noisy/'));
    expect(notStarted.length).toBeGreaterThan(0); // they need nothing of basic: skipped only because the run stopped

    const text = await mdpipe(['run', '--fail-fast', '--jobs', '1'], { cwd: dir });
    expectExit(text, 1);
    expect(text.stdout).toContain('failed tasks (1):\n  parse:basic/bs64-w8-d05\n');
    expect(text.stdout).toMatch(/^\d+ tasks did not start: --fail-fast stops starting tasks at the first failure\.$/m);

    const rest = await runJson(dir, ['--jobs', '1'], 1);
    expect(rest).toMatchObject({ ok: false, failed: 1, skipped: 4 }); // grid, rfi, label and export of basic
    expect(rest.tasks.find((t) => t.id === 'export:noisy')?.status).toBe('executed');
  });

  test('a bad configuration exits 2 and names the key and the fix', async () => {
    const dir = await smallProject('config');
    fs.writeFileSync(path.join(dir, 'typo.json'), JSON.stringify({ colections: {} }));
    const typo = await mdpipe(['run', '--config', 'typo.json'], { cwd: dir });
    expectExit(typo, 2);
    expect(typo.stderr).toContain('unknown key "colections"; did you mean "collections"?');
    expect(typo.stderr).not.toMatch(/^\s+at /m);

    fs.writeFileSync(path.join(dir, 'moved.json'), JSON.stringify({ collections: { basic: { raw: 'elsewhere' } } }));
    const moved = await mdpipe(['status', '--config', 'moved.json'], { cwd: dir });
    expectExit(moved, 2);
    expect(moved.stderr).toContain('collections.basic.raw: the raw folder');
    expect(moved.stderr).toContain('fix:');

    fs.writeFileSync(path.join(dir, 'broken.json'), '{"collections": {,}}');
    const broken = await mdpipe(['graph', '--config', 'broken.json'], { cwd: dir });
    expectExit(broken, 2);
    expect(broken.stderr).toContain('not valid JSON');

    const missing = await mdpipe(['run', '--config', 'nope.json', '--json'], { cwd: dir });
    expectExit(missing, 2);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('no configuration file at');
  });

  test('a cache locked by another run: exit 1 naming the holder; --wait queues behind it', async () => {
    const dir = await smallProject('lock');
    const lock = await acquireProjectLock(path.join(dir, '.mdpipe'), { command: 'the test holding the lock' });
    let waiting: ReturnType<typeof spawnMdpipe> | undefined;
    try {
      const refused = await mdpipe(['run'], { cwd: dir });
      expectExit(refused, 1);
      expect(refused.stderr).toContain(`process ${process.pid} on ${os.hostname()} (the test holding the lock)`);
      expect(refused.stderr).toContain('--wait');
      waiting = spawnMdpipe(['run', '--wait', '--json', '--log-level', 'debug'], { cwd: dir });
      // Discovery is logged (debug) before the lock is requested; then it polls for the lock.
      await waiting.waitForStderr(/found [\d,]+ tasks/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(waiting.child.exitCode).toBeNull();
      await lock.release();
      const done = await waiting.done;
      expectExit(done, 0);
      expect(parseJson<Summary>(done).executed).toBe(SMALL_PROJECT_TASKS);
    } finally {
      waiting?.child.kill('SIGKILL');
      await lock.release();
    }
  });
});

describe('clean and cache', () => {
  test('cache info counts; clean empties the cache; clean --outputs deletes the outputs too', async () => {
    const dir = await smallProject('clean');
    await runJson(dir);
    const info = parseJson<{ records: number; blobs: number; bytes: number; bytesOnDisk: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir }));
    expect(info.records).toBe(SMALL_PROJECT_TASKS);
    expect(info.bytes).toBeGreaterThan(0);
    expect(info.bytesOnDisk).toBeGreaterThan(0);
    const text = await mdpipe(['cache', 'info'], { cwd: dir });
    expect(text.stdout).toContain(`${SMALL_PROJECT_TASKS} cached task results`);

    const clean = await mdpipe(['clean'], { cwd: dir });
    expectExit(clean, 0);
    expect(clean.stdout).toContain(`removed ${SMALL_PROJECT_TASKS} cached results`);
    expect(parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir })).records).toBe(0);
    expect(fs.existsSync(path.join(dir, 'out/basic/dataframe.csv'))).toBe(true);
    expect((await runJson(dir)).executed).toBe(SMALL_PROJECT_TASKS);

    // The user's own files in out/ stay; what a killed mdpipe left (temporaries of a dead process) goes.
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    fs.writeFileSync(path.join(dir, 'out/notes.txt'), 'mine');
    fs.writeFileSync(path.join(dir, 'out/basic/my-analysis.py'), 'mine too');
    fs.writeFileSync(path.join(dir, `out/index.html.tmp-${dead}-0a1b`), 'torn');
    fs.writeFileSync(path.join(dir, `out/noisy/dataframe.csv.tmp-${dead}-2c3d`), 'torn');
    const outputs = await mdpipe(['clean', '--outputs'], { cwd: dir });
    expectExit(outputs, 0);
    expect(outputs.stdout).toContain('removed 10 output files'); // 5 per collection; index.html and its companions are the CLI's, not the engine's
    expect(outputs.stdout).toContain('and the run pages (last-run.json, graph.svg, graph.dot, index.html)');
    expect(fs.existsSync(path.join(dir, 'out/basic/dataframe.csv'))).toBe(false);
    // Every file mdpipe wrote is gone, and the collection folder it made and left empty; nothing else.
    expect(fs.readdirSync(path.join(dir, 'out'), { recursive: true }).map(String).sort()).toEqual(['basic', 'basic/my-analysis.py', 'notes.txt']);
  });

  test('clean and cache info work when the raw tree is gone', async () => {
    const dir = await smallProject('gone');
    await runJson(dir);
    fs.rmSync(path.join(dir, 'raw'), { recursive: true });
    const info = parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir }));
    expect(info.records).toBe(SMALL_PROJECT_TASKS);
    expectExit(await mdpipe(['clean'], { cwd: dir }), 0);
  });

  test('cache gc drops results of tasks the graph no longer has, then applies limits', async () => {
    const dir = await smallProject('gc');
    await runJson(dir);
    const configFile = path.join(dir, 'mdpipe.config.json');
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    delete config.collections.noisy;
    fs.writeFileSync(configFile, JSON.stringify(config));

    const preview = parseJson<{ recordsDeleted: number }>(await mdpipe(['cache', 'gc', '--dry-run', '--json'], { cwd: dir }));
    expect(preview.recordsDeleted).toBe(22);
    expect(parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir })).records).toBe(SMALL_PROJECT_TASKS);

    const gc = await mdpipe(['cache', 'gc'], { cwd: dir });
    expectExit(gc, 0);
    expect(gc.stdout).toMatch(/^deleted 22 cached results and \d+ blobs, freeing/m);
    expect(parseJson<{ records: number }>(await mdpipe(['cache', 'info', '--json'], { cwd: dir })).records).toBe(22);
    expect((await runJson(dir)).executed).toBe(0);

    const squeezed = parseJson<{ recordsKept: number; bytesKept: number }>(await mdpipe(['cache', 'gc', '--max-size', '1B', '--json'], { cwd: dir }));
    expect(squeezed).toMatchObject({ recordsKept: 0, bytesKept: 0 });
    expect((await runJson(dir)).executed).toBe(22);
  });
});
