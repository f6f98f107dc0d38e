/**
 * Two `mdpipe run` on one project at once, and a lock left by a killed run, through the real CLI (two
 * child processes, no lock taken by the test itself). Exactly one run builds; the other stops naming the
 * holder (pid and command) or, with `--wait`, queues behind it; the store is intact afterwards (a third run
 * executes nothing, and the outputs equal a clean build's byte for byte). A stale lock is recovered without
 * manual cleanup.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  cleanBuildOutputs,
  createProject,
  describeResult,
  MEDIUM_AXES,
  removeScratch,
  snapshotDiff,
  stackTraceLines,
  taskCount,
  TRACE,
  type CliResult,
  type Project,
} from '../helpers/reliability-project.js';

const TOTAL = taskCount(MEDIUM_AXES);
let reference: Map<string, Buffer>;

beforeAll(async () => {
  reference = await cleanBuildOutputs({ axes: MEDIUM_AXES });
});
afterAll(() => removeScratch());

/** The store is intact: a further run builds nothing and the outputs are a clean build's. */
async function expectIntact(p: Project): Promise<void> {
  const again = await p.run(['run', '--json']);
  expect({ code: again.code, why: describeResult(again) }).toEqual({ code: 0, why: describeResult(again) });
  expect(again.summary!.executed).toBe(0);
  expect(again.summary!.cached).toBe(TOTAL);
  expect(snapshotDiff(p.outputs(), reference)).toEqual([]);
}

/** The refusal names the holder: its pid, host and command. */
function expectRefusedBy(r: CliResult, holder: { pid: number }, p: Project): void {
  expect({ code: r.code, why: describeResult(r) }).toEqual({ code: 1, why: describeResult(r) });
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`in use by process ${holder.pid} on ${hostname()} (mdpipe run`);
  expect(r.stderr).toContain(p.configPath);
  expect(r.stderr).toContain('--wait');
  expect(stackTraceLines(r.stderr)).toEqual([]);
}

describe('two runs on one project', () => {
  test('started together, twice: exactly one builds; the other is refused naming it, or finds all fresh', async () => {
    const outcomes: string[] = [];
    const p = await createProject({ axes: MEDIUM_AXES, name: 'race' });
    for (let round = 0; round < 2; round++) {
      rmSync(p.cacheDir, { recursive: true, force: true });
      rmSync(p.outDir, { recursive: true, force: true });
      const a = p.spawn(['run', '--json']);
      const b = p.spawn(['run', '--json']);
      const [ra, rb] = await Promise.all([a.done, b.done]);
      const runs = [
        { r: ra, other: b },
        { r: rb, other: a },
      ];
      const built = runs.filter(({ r }) => r.code === 0 && r.summary!.executed > 0);
      expect(built).toHaveLength(1);
      expect(built[0].r.summary!.executed).toBe(TOTAL);
      const loser = runs.find((run) => run !== built[0])!;
      if (loser.r.code === 1) {
        expectRefusedBy(loser.r, built[0].other === a ? b : a, p);
        outcomes.push('refused');
      } else {
        // It took the lock after the winner released it: everything was fresh.
        expect({ code: loser.r.code, executed: loser.r.summary?.executed }).toEqual({ code: 0, executed: 0 });
        outcomes.push('fresh after');
      }
      await expectIntact(p);
    }
    p.cleanup();
    console.log(`two runs started together: ${outcomes.join(', ')}`);
  });

  test('a run started while another holds the lock is refused, naming the holder; the holder finishes', async () => {
    const p = await createProject({ axes: MEDIUM_AXES, name: 'refused' });
    const holder = p.spawn(['run', '--json', ...TRACE]);
    // "checking N tasks" is logged once the lock is held and the run has started.
    await holder.waitForStderr(/"msg":"checking [\d,]+ tasks"/);
    // Suspended while the second run starts: on an idle machine the holder's whole build (296 tasks) once
    // ended before the second CLI was up, which then ran instead of being refused. The lock's heartbeat
    // only goes stale after 60 s.
    process.kill(holder.pid, 'SIGSTOP');
    let refused;
    try {
      refused = await p.run(['run', '--json']);
    } finally {
      process.kill(holder.pid, 'SIGCONT');
    }
    const done = await holder.done;
    expectRefusedBy(refused, holder, p);
    expect({ code: done.code, executed: done.summary?.executed }).toEqual({ code: 0, executed: TOTAL });
    await expectIntact(p);
    p.cleanup();
  });

  test('with --wait the second run queues behind the first, then finds everything fresh', async () => {
    const p = await createProject({ axes: MEDIUM_AXES, name: 'wait' });
    const first = p.spawn(['run', '--json', ...TRACE]);
    await first.waitForStderr(/"msg":"checking [\d,]+ tasks"/);
    const second = await p.run(['run', '--json', '--wait']);
    const done = await first.done;
    expect({ code: done.code, executed: done.summary?.executed }).toEqual({ code: 0, executed: TOTAL });
    expect({ code: second.code, executed: second.summary?.executed, cached: second.summary?.cached }).toEqual({ code: 0, executed: 0, cached: TOTAL });
    await expectIntact(p);
    p.cleanup();
  });
});

describe('a stale lock', () => {
  test('left by a run killed with SIGKILL is recovered by the next run (two racing for it), with no manual cleanup', async () => {
    const p = await createProject({ axes: MEDIUM_AXES, name: 'stale' });
    const killed = p.spawn(['run', '--json', ...TRACE]);
    await killed.waitForStderr(/"msg":"committed"/);
    killed.process.kill('SIGKILL');
    const k = await killed.done;
    expect(k.signal).toBe('SIGKILL');
    // The lock and its holder file are still there, naming the dead process.
    const holderFile = join(p.cacheDir, 'mdpipe.lock.holder.json');
    expect(existsSync(join(p.cacheDir, 'mdpipe.lock'))).toBe(true);
    expect((JSON.parse(readFileSync(holderFile, 'utf8')) as { pid: number }).pid).toBe(killed.pid);

    // Two runs race to recover it: one takes it over and resumes; the other is refused naming that one (or
    // comes after it and finds everything fresh). Never both.
    const a = p.spawn(['run', '--json']);
    const b = p.spawn(['run', '--json']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const resumedRuns = [ra, rb].filter((r) => r.code === 0 && r.summary!.executed > 0);
    expect(resumedRuns).toHaveLength(1);
    const next = resumedRuns[0];
    const other = next === ra ? rb : ra;
    if (other.code === 1) expectRefusedBy(other, next === ra ? a : b, p);
    else expect({ code: other.code, executed: other.summary?.executed }).toEqual({ code: 0, executed: 0 });
    expect(stackTraceLines(next.stderr)).toEqual([]);
    // What the killed run committed is reused.
    expect(next.summary!.cached).toBeGreaterThan(0);
    expect(next.summary!.executed + next.summary!.cached).toBe(TOTAL);
    expect(existsSync(holderFile)).toBe(false);
    await expectIntact(p);
    p.cleanup();
  });
});
