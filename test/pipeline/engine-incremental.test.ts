/**
 * Incremental behaviour of the engine, asserted by counting run-function calls (the rig's CallCounter).
 * Rig: 4 basic + 3 noisy parse partitions, grid/export per collection, summary:all — 12 tasks.
 */
import { readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../cache/digest.js';
import { openDefaultStore } from '../../cache/default-store.js';
import { explainText } from '../../cli/explain-text.js';
import { openEngine } from '../../pipeline/engine.js';
import { InputChangedError, UnknownTargetError } from '../../pipeline/errors.js';
import { NOT_STARTED_AFTER_FAILURE, type EngineEvent } from '../../pipeline/events.js';
import { EngineRig, idsWith, writeInput } from '../helpers/engine-rig.js';

const ALL = 12;
const BASIC_DOWNSTREAM = ['export:basic', 'grid:basic', 'summary:all'];

let rig: EngineRig;
beforeEach(() => {
  rig = new EngineRig();
});
afterEach(async () => {
  await rig.cleanup();
});

async function build(behaviour = {}, options = {}) {
  const engine = await rig.engine(behaviour);
  return engine.run(options);
}

describe('incremental runs', () => {
  it('cold run executes every task once and publishes files', async () => {
    const result = await build();
    expect(result.summary).toMatchObject({ ok: true, executed: ALL, cached: 0, failed: 0, skipped: 0 });
    expect(rig.counter.total()).toBe(ALL);
    expect(rig.counter.ids().every((id) => rig.counter.of(id) === 1)).toBe(true);
    expect(readFileSync(join(rig.outDir, 'basic/table.csv'), 'utf8')).toBe(
      'id,n\nparse:basic/p0,1\nparse:basic/p1,2\nparse:basic/p2,3\nparse:basic/p3,4\n',
    );
    expect(Object.keys(result.summary).sort()).toEqual(['cached', 'durationMs', 'executed', 'failed', 'ok', 'skipped', 'tasks']);
    expect(Object.keys(result.summary.tasks[0]).sort()).toEqual(['id', 'ms', 'status']);
  });

  it('no-op run executes nothing, hashes no file and reads no blob', async () => {
    await build();
    rig.counter.reset();
    const result = await build();
    expect(rig.counter.total()).toBe(0);
    expect(result.summary).toMatchObject({ ok: true, executed: 0, cached: ALL });
    expect(result.stats.filesHashed).toBe(0);
    expect(result.stats.blobsRead).toBe(0);
    expect(result.stats.commits).toBe(0);
  });

  it('one changed input re-runs exactly that partition and its downstream', async () => {
    await build();
    rig.counter.reset();
    writeInput(rig.input('basic', 1), '20');
    const result = await build();
    expect(rig.counter.ids()).toEqual(['export:basic', 'grid:basic', 'parse:basic/p1', 'summary:all']);
    expect(idsWith(result.outcomes, 'executed')).toEqual(['export:basic', 'grid:basic', 'parse:basic/p1', 'summary:all']);
    expect(result.summary.cached).toBe(ALL - 4);
    expect(result.stats.filesHashed).toBe(1);
    const reason = result.outcomes.find((o) => o.id === 'parse:basic/p1')!.reason;
    expect(reason).toContain('input a.txt changed');
    expect(reason).toContain(rig.input('basic', 1));
  });

  it('a touch without a content change re-runs nothing (and the memo is refreshed)', async () => {
    await build();
    rig.counter.reset();
    const future = new Date(Date.now() - 600_000);
    for (const collection of ['basic', 'noisy']) {
      for (let k = 0; k < (collection === 'basic' ? 4 : 3); k++) utimesSync(rig.input(collection, k), future, future);
    }
    const touched = await build();
    expect(rig.counter.total()).toBe(0);
    expect(touched.summary.executed).toBe(0);
    expect(touched.stats.filesHashed).toBe(7);
    const again = await build();
    expect(again.stats.filesHashed).toBe(0);
  });

  it('a parameter change re-runs the tasks it reaches', async () => {
    await build();
    rig.counter.reset();
    const result = await build({ scale: 2 });
    expect(rig.counter.total('parse')).toBe(7);
    expect(result.summary.executed).toBe(ALL);
    expect(result.outcomes.find((o) => o.id === 'parse:noisy/p0')!.reason).toContain('parameter scale changed (1 → 2)');
  });

  it('a code-version change re-runs that kind; unchanged outputs stop there (early cutoff)', async () => {
    await build();
    rig.counter.reset();
    const result = await build({ codeVersions: { grid: '2' } });
    expect(rig.counter.ids()).toEqual(['grid:basic', 'grid:noisy']);
    expect(result.outcomes.find((o) => o.id === 'grid:basic')!.reason).toBe('code version changed (1 → 2)');
    expect(idsWith(result.outcomes, 'cached')).toContain('export:basic');
  });

  it('early cutoff: an upstream that re-runs with the same output leaves downstream cached', async () => {
    await build();
    rig.counter.reset();
    writeInput(rig.input('basic', 2), ' 3 \n'); // was "3": new bytes, same parsed number
    const result = await build();
    expect(rig.counter.ids()).toEqual(['parse:basic/p2']);
    expect(result.summary).toMatchObject({ executed: 1, cached: ALL - 1 });
  });

  it('an optional input appearing changes the key', async () => {
    await build();
    rig.counter.reset();
    writeInput(rig.input('basic', 1, 'b.txt'), 'now present');
    await build();
    // b is carried in parse's value, so grid re-runs; grid's rows are unchanged, so export stops there.
    expect(rig.counter.ids()).toEqual(['grid:basic', 'parse:basic/p1']);
  });

  it('a target builds only its upstream', async () => {
    const result = await build({}, { targets: ['grid:noisy'] });
    expect(rig.counter.ids()).toEqual(['grid:noisy', 'parse:noisy/p0', 'parse:noisy/p1', 'parse:noisy/p2']);
    expect(result.summary.tasks.map((t) => t.id).sort()).toEqual(rig.counter.ids());
  });

  it('glob targets select partitions and per-collection tasks', async () => {
    await build({}, { targets: ['parse:noisy/*'] });
    expect(rig.counter.ids()).toEqual(['parse:noisy/p0', 'parse:noisy/p1', 'parse:noisy/p2']);
    rig.counter.reset();
    await build({}, { targets: ['*:basic'] });
    expect(rig.counter.ids()).toEqual(['export:basic', 'grid:basic', ...[0, 1, 2, 3].map((k) => `parse:basic/p${k}`)]);
  });

  it('an unknown target is a usage error with close matches', async () => {
    const engine = await rig.engine();
    await expect(engine.run({ targets: ['grid:basc'] })).rejects.toThrow(UnknownTargetError);
    await expect(engine.run({ targets: ['grid:basc'] })).rejects.toThrow(/Did you mean: grid:basic/);
    await expect(engine.run({ targets: ['parse:*'] })).rejects.toThrow(/parse:basic\/\*/);
    expect(rig.counter.total()).toBe(0);
  });

  it('--force re-runs the named targets only, with inputs from the cache', async () => {
    await build();
    rig.counter.reset();
    const result = await build({}, { targets: ['grid:basic'], force: true });
    expect(rig.counter.ids()).toEqual(['grid:basic']);
    expect(result.outcomes.find((o) => o.id === 'grid:basic')!.reason).toBe('forced');
    expect(result.stats.blobsRead).toBe(4);
  });

  it('--force without targets re-runs everything', async () => {
    await build();
    rig.counter.reset();
    await build({}, { force: true });
    expect(rig.counter.total()).toBe(ALL);
  });
});

describe('failures', () => {
  it('a failing partition fails alone: dependents skipped, independent work done, next run retries it', async () => {
    const failing = await build({ failOn: new Set(['parse:basic/p2']) });
    expect(idsWith(failing.outcomes, 'failed')).toEqual(['parse:basic/p2']);
    expect(idsWith(failing.outcomes, 'skipped')).toEqual(BASIC_DOWNSTREAM);
    expect(failing.summary).toMatchObject({ ok: false, executed: ALL - 4, failed: 1, skipped: 3 });
    const failure = failing.outcomes.find((o) => o.id === 'parse:basic/p2')!;
    expect(failure.error).toContain('parse:basic/p2');
    expect(failure.error).toContain('told-to-fail'); // the error's `file`
    expect(failing.outcomes.find((o) => o.id === 'grid:basic')!.reason).toBe('upstream parse:basic/p2 failed');
    expect(existsOut('basic/table.csv')).toBe(false);
    expect(existsOut('noisy/table.csv')).toBe(true);

    rig.counter.reset();
    const retry = await build();
    expect(rig.counter.ids()).toEqual(['parse:basic/p2', ...BASIC_DOWNSTREAM].sort());
    expect(retry.summary.ok).toBe(true);
  });

  it('a failed result is never cached, even when it failed under --force', async () => {
    await build();
    rig.counter.reset();
    const forced = await build({ failOn: new Set(['grid:noisy']) }, { targets: ['grid:noisy'], force: true });
    expect(forced.summary.failed).toBe(1);
    rig.counter.reset();
    // Same inputs and code as the last good result: that record is still valid (a record is replaced
    // only by a committed replacement, never deleted before its task runs), and the failure left nothing.
    const next = await build();
    expect(rig.counter.total()).toBe(0);
    expect(next.summary.executed).toBe(0);
    expect(next.summary.cached).toBe(ALL);
    // A changed input after the failure: the old record does not vouch for it (another key).
    writeInput(rig.input('noisy', 0), '77');
    rig.counter.reset();
    const changed = await build();
    expect(rig.counter.ids()).toEqual(['export:noisy', 'grid:noisy', 'parse:noisy/p0', 'summary:all']);
    expect(changed.summary.failed).toBe(0);
  });

  it('previous published files survive a failed rebuild', async () => {
    await build();
    const before = readFileSync(join(rig.outDir, 'basic/table.csv'), 'utf8');
    writeInput(rig.input('basic', 0), '100');
    const failing = await build({ failOn: new Set(['export:basic']) });
    expect(idsWith(failing.outcomes, 'failed')).toEqual(['export:basic']);
    expect(readFileSync(join(rig.outDir, 'basic/table.csv'), 'utf8')).toBe(before);
  });

  it('keepGoing: false starts nothing new after the first failure', async () => {
    const result = await build({ failOn: new Set(['parse:basic/p0']) }, { keepGoing: false });
    expect(result.summary.failed).toBe(1);
    expect(result.summary.skipped).toBeGreaterThan(3);
    expect(result.outcomes.filter((o) => o.reason === NOT_STARTED_AFTER_FAILURE).length).toBeGreaterThan(0);
  });

  it('an input edited while its task runs fails the task uncommitted', async () => {
    const target = rig.input('noisy', 1);
    const result = await build({
      onRun: (id: string) => {
        if (id === 'parse:noisy/p1') writeFileSync(target, '999');
      },
    });
    const outcome = result.outcomes.find((o) => o.id === 'parse:noisy/p1')!;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toBe(new InputChangedError('parse:noisy/p1', target).message);
    rig.counter.reset();
    await build();
    expect(rig.counter.ids()).toContain('parse:noisy/p1');
  });

  it('a missing required input fails its task with the path, without calling it', async () => {
    rmSync(rig.input('noisy', 2));
    const result = await build();
    const outcome = result.outcomes.find((o) => o.id === 'parse:noisy/p2')!;
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toContain(rig.input('noisy', 2));
    expect(rig.counter.of('parse:noisy/p2')).toBe(0);
  });

  it('a value v8 cannot serialise, or a malformed result, fails with a clear message', async () => {
    const declare = (id: string, run: () => unknown) => ({
      id, kind: id.split(':')[0], codeVersion: '1', params: {}, files: [], deps: [], run: run as never,
    });
    const engine = await openEngine({
      definition: {
        tasks: [
          declare('bad:function', () => ({ value: { f: () => 1 } })),
          declare('bad:shape', () => 42),
          declare('bad:file', () => ({ value: 1, files: { 'x.csv': 'text, not bytes' } })),
          declare('bad:path', () => ({ value: 1, files: { '../x.csv': Buffer.from('x') } })),
        ],
        partitioned: [],
      },
      cacheDir: rig.cacheDir,
      openStore: () => openDefaultStore(rig.cacheDir),
      outDir: rig.outDir,
    });
    rig.engines.push(engine);
    const result = await engine.run();
    const error = (id: string) => result.outcomes.find((o) => o.id === id)!.error;
    expect(error('bad:function')).toMatch(/^task bad:function returned an invalid result: the value cannot be serialised \(.*could not be cloned.*\); return plain data/);
    expect(error('bad:shape')).toBe('task bad:shape returned an invalid result: expected an object { value, files? }');
    expect(error('bad:file')).toBe('task bad:file returned an invalid result: file x.csv is not a Uint8Array (or Buffer)');
    expect(error('bad:path')).toBe('task bad:path returned an invalid result: output file "../x.csv" would be written outside the output directory');
    expect(result.summary.failed).toBe(4);
    expect((await engine.cacheInfo()).records).toBe(0);
  });

  it('an abort stops new work, commits what finished, and the next run does the rest', async () => {
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    const engine = await rig.engine(
      { hangOn: new Set(['grid:basic']) },
      { onEvent: (e: EngineEvent) => {
        events.push(e);
        if (e.type === 'task-start' && e.id === 'grid:basic') setTimeout(() => controller.abort(), 5);
      } },
    );
    const interrupted = await engine.run({ signal: controller.signal });
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.summary.ok).toBe(false);
    expect(idsWith(interrupted.outcomes, 'failed')).toEqual(['grid:basic']);
    const done = idsWith(interrupted.outcomes, 'executed');
    expect(done).toEqual(expect.arrayContaining([0, 1, 2, 3].map((k) => `parse:basic/p${k}`)));
    expect(events.at(-1)).toMatchObject({ type: 'run-end', interrupted: true });

    rig.counter.reset();
    const resumed = await build();
    expect(rig.counter.ids()).toEqual(
      ['grid:basic', 'grid:noisy', 'export:basic', 'export:noisy', 'parse:noisy/p0', 'parse:noisy/p1', 'parse:noisy/p2', 'summary:all']
        .filter((id) => !done.includes(id))
        .sort(),
    );
    expect(resumed.summary.ok).toBe(true);
  });
});

function existsOut(rel: string): boolean {
  return statSync(join(rig.outDir, rel), { throwIfNoEntry: false }) !== undefined;
}

describe('published files', () => {
  it('are replaced by rename, left alone when unchanged, and leave no temporaries', async () => {
    await build();
    const path = join(rig.outDir, 'basic/table.csv');
    const first = statSync(path, { bigint: true });
    writeInput(rig.input('basic', 1), '2.0'); // same number: export does not even run
    await build();
    expect(statSync(path, { bigint: true }).mtimeNs).toBe(first.mtimeNs);
    writeInput(rig.input('basic', 1), '7');
    await build();
    const second = statSync(path, { bigint: true });
    expect(second.ino).not.toBe(first.ino); // a new file renamed over the old one, not rewritten in place
    expect(readdirSync(join(rig.outDir, 'basic'))).toEqual(['table.csv']);
  });

  it('a deleted or edited published file is restored from the cache on a hit', async () => {
    await build();
    const path = join(rig.outDir, 'noisy/table.csv');
    const good = readFileSync(path);
    rmSync(path);
    rig.counter.reset();
    const plan = await (await rig.engine()).dryRun();
    expect(plan.tasks.find((t) => t.id === 'export:noisy')).toMatchObject({ action: 'fresh', reason: 'up to date; noisy/table.csv is missing: would restore it from the cache' });
    expect(existsOut('noisy/table.csv')).toBe(false);
    const restored = await build();
    expect(rig.counter.total()).toBe(0);
    const outcome = restored.outcomes.find((o) => o.id === 'export:noisy')!;
    expect(outcome).toMatchObject({ status: 'cached', restored: ['noisy/table.csv'] });
    expect(readFileSync(path).equals(good)).toBe(true);

    writeFileSync(path, 'edited by hand');
    const again = await build();
    expect(again.outcomes.find((o) => o.id === 'export:noisy')!.restored).toEqual(['noisy/table.csv']);
    expect(readFileSync(path).equals(good)).toBe(true);
    expect(rig.counter.total()).toBe(0);
  });
});

describe('planning and inspection', () => {
  it('dry run predicts the real run, from the same planner, writing nothing', async () => {
    await build();
    writeInput(rig.input('basic', 3), '40');
    const engine = await rig.engine({ codeVersions: { export: '2' } });
    const plan = await engine.dryRun();
    const wouldRun = plan.tasks.filter((t) => t.action === 'run').map((t) => t.id).sort();
    const maybe = plan.tasks.filter((t) => t.action === 'run-if-upstream-changes').map((t) => t.id).sort();
    expect(wouldRun).toEqual(['export:basic', 'export:noisy', 'parse:basic/p3']);
    expect(maybe).toEqual(['grid:basic', 'summary:all']);
    expect(plan.tasks.find((t) => t.id === 'export:noisy')!.reason).toBe('code version changed (1 → 2)');
    expect(rig.counter.total()).toBe(ALL); // only the cold build's calls: the dry run ran nothing
    const again = await engine.dryRun();
    expect(again.tasks).toEqual(plan.tasks); // and wrote nothing that changes the next plan

    rig.counter.reset();
    const real = await engine.run();
    const executed = idsWith(real.outcomes, 'executed');
    for (const id of wouldRun) expect(executed).toContain(id);
    for (const id of executed) expect([...wouldRun, ...maybe]).toContain(id);
  });

  it('dry run after a touch hashes but predicts nothing to run', async () => {
    await build();
    utimesSync(rig.input('basic', 0), new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    const engine = await rig.engine();
    const plan = await engine.dryRun();
    expect(plan.run + plan.runIfUpstreamChanges).toBe(0);
  });

  it('explain names the changed file with old and new hashes, and the changed parameter', async () => {
    await build();
    const path = rig.input('basic', 0);
    const oldHash = sha256(readFileSync(path));
    writeInput(path, '11');
    const newHash = sha256(readFileSync(path));
    const engine = await rig.engine({ scale: 3 });
    const explanation = await engine.explain('parse:basic/p0');
    expect(explanation.state).toBe('stale');
    expect(explanation.changes).toEqual(
      expect.arrayContaining([
        { field: 'params', path: 'params.scale', old: 1, new: 3 },
        { field: 'file', name: 'a.txt', path, old: oldHash, new: newHash },
      ]),
    );
    expect(explainText(explanation)).toContain(path);
    expect(explainText(explanation)).toContain(oldHash);
    expect(explainText(explanation)).toContain(newHash);
    expect(explainText(explanation)).toContain('parameter scale changed (1 → 3)');

    const downstream = await engine.explain('grid:basic');
    expect(downstream.action).toBe('run-if-upstream-changes');
    expect(explainText(downstream)).toContain('upstream parse:basic/p0 would re-run');
  });

  it('explain of a fresh task says so; of an unknown task suggests ids', async () => {
    await build();
    const engine = await rig.engine();
    const fresh = await engine.explain('summary:all');
    expect(fresh).toMatchObject({ state: 'fresh', changes: [] });
    expect(explainText(fresh)).toMatch(/^summary:all: fresh/);
    await expect(engine.explain('summary:al')).rejects.toThrow(/Did you mean: summary:all/);
  });

  it('status lists every task fresh or stale with its reason', async () => {
    const engine = await rig.engine();
    const cold = await engine.status();
    expect(cold).toHaveLength(ALL);
    expect(cold.every((t) => t.state === 'stale')).toBe(true);
    await engine.run();
    writeInput(rig.input('noisy', 0), '5');
    const status = await engine.status();
    const stale = status.filter((t) => t.state === 'stale');
    expect(stale.map((t) => t.id).sort()).toEqual(['export:noisy', 'grid:noisy', 'parse:noisy/p0', 'summary:all']);
    expect(stale.find((t) => t.id === 'parse:noisy/p0')!.reason).toMatch(/^input a\.txt changed/);
    expect(stale.find((t) => t.id === 'grid:noisy')!.reason).toMatch(/upstream parse:noisy\/p0 would re-run/);
    expect(rig.counter.total()).toBe(ALL);
  });

  it('emits typed events: discovered with skipped matches, planned, start/end per task, run-end', async () => {
    const events: EngineEvent[] = [];
    const engine = await rig.engine({}, { onEvent: (e: EngineEvent) => events.push(e) });
    expect(engine.skippedSummary).toEqual([{ kind: 'parse', reason: 'outside the configured axes', count: 2, examples: ['basic/skip_me', 'noisy/skip_me'] }]);
    await engine.run();
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('discovered');
    expect(types[1]).toBe('planned');
    expect(types.filter((t) => t === 'task-start')).toHaveLength(ALL);
    expect(types.filter((t) => t === 'task-end')).toHaveLength(ALL);
    expect(types.at(-1)).toBe('run-end');
    const committed = events.flatMap((e) => (e.type === 'committed' ? e.ids : []));
    expect(committed.sort()).toEqual(rig.counter.ids());
  });

  it('inputs edited within the racy window are hashed again rather than trusted', async () => {
    await build();
    writeFileSync(rig.input('basic', 0), '1'); // same content, mtime now
    const first = await build();
    expect(first.summary.executed).toBe(0);
    expect(first.stats.filesHashed).toBe(1);
    const second = await build();
    expect(second.stats.filesHashed).toBe(1); // not memoised while its mtime is recent
  });
});
