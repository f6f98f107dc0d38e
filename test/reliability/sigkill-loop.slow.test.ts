/**
 * The fault-injection loop (`npm run test:faults`): `mdpipe run` killed with SIGKILL at random moments,
 * over and over, during cold builds and during rebuilds after the inputs changed (both collections,
 * 676 checkpoint folders each, so a cold build lasts a few seconds). Each round kills up to three runs in a
 * row, then lets one finish, and checks that the store was never trusted wrongly:
 *
 * - every result a killed run committed is reused (cached) by the finishing run, never redone;
 * - the finishing run completes, and every output file equals a clean build's (same inputs, fresh cache),
 *   byte for byte, with nothing else left in the output folder;
 * - a run after it executes 0 tasks.
 *
 * Then `run --force` is killed over and over on the finished build: no result valid before is lost (the
 * store holds as many records as before, and a plain run after each kill executes 0 tasks, with outputs
 * equal to a clean build's).
 *
 * Kills land after a random delay (uniform over the expected duration) or a random few milliseconds after
 * a chosen moment (the first commit, the grid tasks, the exports), so that discovery, parsing, commit
 * batches and publishing are all hit. The random choices come from a fixed seed, printed, so a failure is
 * reproducible: MDPIPE_FAULTS_SEED=<seed> npm run test:faults.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { prng } from '../helpers/prng.js';
import {
  COLLECTIONS,
  createProject,
  describeResult,
  idsWith,
  LARGE_AXES,
  removeScratch,
  snapshotBytes,
  snapshotDiff,
  taskCount,
  TRACE,
  type CliChild,
  type Coords,
  type Project,
} from '../helpers/reliability-project.js';

const SEED = Number(process.env.MDPIPE_FAULTS_SEED ?? 20_240_721);
// MDPIPE_FAULTS_ROUNDS=N runs N cold and N rebuild rounds (default 8 each): fewer on a loaded machine,
// where a cold build takes tens of seconds and the full loop would not fit the 10-minute test timeout.
const ROUNDS = Number(process.env.MDPIPE_FAULTS_ROUNDS ?? 8);
const COLD_ROUNDS = ROUNDS;
const REBUILD_ROUNDS = ROUNDS;
const KILLS_PER_ROUND = 3;
const FORCE_KILLS = Math.max(3, ROUNDS);
const TOTAL = taskCount(LARGE_AXES);

const rand = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];

// ------------------------------------------------------------------ the two input states

interface Edit {
  path: string;
  /** Content in state 1 (`null`: the file is deleted). */
  changed: Buffer | null;
}

/** State 1: about one folder in twelve gets another folder's test results; one hessian.pkl per collection is deleted. */
function planEdits(p: Project): Edit[] {
  const r = prng(SEED ^ 0x5bd1e995);
  const coords: Coords[] = [];
  for (const bs of LARGE_AXES.bs) for (const width of LARGE_AXES.width) for (const data of LARGE_AXES.data) coords.push({ bs, width, data });
  const edits: Edit[] = [];
  for (const c of COLLECTIONS) {
    for (const at of coords) {
      if (r() >= 1 / 12) continue;
      const from = coords[Math.floor(r() * coords.length)];
      edits.push({ path: p.file(c, at, 'loss_acc_test.pkl'), changed: readFileSync(p.file(c, from, 'loss_acc_test.pkl')) });
    }
    edits.push({ path: p.file(c, coords[Math.floor(r() * coords.length)], 'hessian.pkl'), changed: null });
  }
  return edits;
}

/** Puts a project's inputs in state 0 or 1 (`original` holds state 0's bytes, by path relative to the project). */
function applyState(p: Project, edits: readonly Edit[], original: Map<string, Buffer>, state: 0 | 1, base: string): void {
  for (const edit of edits) {
    const path = join(p.dir, edit.path.slice(base.length));
    const bytes = state === 0 ? original.get(edit.path)! : edit.changed;
    if (bytes === null) rmSync(path, { force: true });
    else writeFileSync(path, bytes);
  }
}

// ------------------------------------------------------------------ what a killed run left

/** Task ids with a record in the store, and when each finished (read-only, as a second process would). */
function durableRecords(p: Project): Map<string, string> {
  const file = join(p.cacheDir, 'cache.sqlite');
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  const db = new Database(file, { readonly: true });
  try {
    for (const row of db.prepare("SELECT key, value FROM keyv WHERE key >= 'records:' AND key < 'records;'").all() as { key: string; value: string }[]) {
      out.set(row.key.slice('records:'.length), (JSON.parse(row.value) as { value: { finishedAt: string } }).value.finishedAt);
    }
  } finally {
    db.close();
  }
  return out;
}

/** Where the run was when it died, from the last engine event it logged. */
function phaseOf(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  if (lines.length === 0) return 'startup and discovery';
  const msg = String((JSON.parse(lines[lines.length - 1]) as { msg?: string }).msg ?? '');
  if (/export:/.test(msg)) return 'exports and publishing';
  if (/(grid|rfi|label):/.test(msg)) return 'grid, rfi, label';
  if (msg === 'committed') return 'commit batches';
  if (/parse:/.test(msg)) return 'parsing';
  return 'planning';
}

/** Ids the run logged as executed (debug lines `<id> executed (...)`). */
function executedInLog(stderr: string): string[] {
  return [...stderr.matchAll(/"msg":"([^"]+) executed \(/g)].map((m) => m[1]);
}

// ------------------------------------------------------------------ the loop

const figures = {
  kills: 0,
  missed: 0,
  phases: new Map<string, number>(),
  redone: 0,
  committedReused: 0,
  resumes: 0,
  filesCompared: 0,
  bytesCompared: 0,
};

afterAll(() => removeScratch());

test(`SIGKILL at random moments (seed ${SEED}): ${COLD_ROUNDS} cold and ${REBUILD_ROUNDS} rebuild rounds of ${KILLS_PER_ROUND} kills`, async () => {
  console.log(`SIGKILL loop seed ${SEED}: MDPIPE_FAULTS_SEED=${SEED} npm run test:faults reproduces it`);

  // Clean builds of both input states, each in a fresh cache: what every round must end with.
  const reference = await createProject({ axes: LARGE_AXES, name: 'kill-reference' });
  const project = await createProject({ axes: LARGE_AXES, name: 'kill' });
  const edits = planEdits(reference);
  const original = new Map(edits.map((e) => [e.path, readFileSync(e.path)] as const));
  const expected: Map<string, Buffer>[] = [];
  const timed = async (p: Project): Promise<number> => {
    const started = performance.now();
    const r = await p.run(['run', '--json'], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`reference build failed: ${describeResult(r)}`);
    return performance.now() - started;
  };
  const coldMs = await timed(reference);
  expected[0] = reference.outputs();
  applyState(reference, edits, original, 1, reference.dir);
  const rebuildMs = await timed(reference);
  rmSync(reference.cacheDir, { recursive: true });
  rmSync(reference.outDir, { recursive: true });
  await timed(reference);
  expected[1] = reference.outputs();
  expect(snapshotDiff(expected[0], expected[1]).length).toBeGreaterThan(0);
  reference.cleanup();
  console.log(`a cold build takes ${Math.round(coldMs)} ms here, a rebuild after the change ${Math.round(rebuildMs)} ms`);

  const killOnce = async (durationMs: number, extra: readonly string[] = [], byDelayOnly = false): Promise<{ killed: boolean; child: CliChild; stderr: string }> => {
    const child = project.spawn(['run', '--json', ...extra, ...TRACE], { timeoutMs: 300_000 });
    if (byDelayOnly) {
      await sleep(rand() * durationMs);
    } else if (rand() < 0.5) {
      await sleep(rand() * durationMs * 1.1);
    } else {
      // The exports are short (they publish four files each): kill within a few milliseconds of their start.
      const [moment, withinMs] = pick([
        [/"msg":"committed"/, 60],
        [/"msg":"start grid:/, 30],
        [/"msg":"start export:/, 15],
        [/"msg":"start export:noisy/, 8],
        [/"msg":"start parse:noisy/, 60],
      ] as const);
      await child.waitForStderr(moment).catch(() => undefined);
      await sleep(rand() * withinMs);
    }
    child.process.kill('SIGKILL');
    const r = await child.done;
    return { killed: r.signal === 'SIGKILL', child, stderr: r.stderr };
  };

  let state: 0 | 1 = 0;
  for (let round = 0; round < COLD_ROUNDS + REBUILD_ROUNDS; round++) {
    const cold = round < COLD_ROUNDS;
    if (cold) {
      rmSync(project.cacheDir, { recursive: true, force: true });
      rmSync(project.outDir, { recursive: true, force: true });
    } else {
      state = state === 0 ? 1 : 0;
      applyState(project, edits, original, state, reference.dir);
    }
    const roundStart = new Date().toISOString();
    const executedByKilled = new Set<string>();
    for (let k = 0; k < KILLS_PER_ROUND; k++) {
      const { killed, stderr } = await killOnce(cold ? coldMs : rebuildMs);
      if (!killed) {
        figures.missed++;
        continue;
      }
      figures.kills++;
      const phase = phaseOf(stderr);
      figures.phases.set(phase, (figures.phases.get(phase) ?? 0) + 1);
      for (const id of executedInLog(stderr)) executedByKilled.add(id);
    }

    // What the killed runs made durable (records written this round: the inputs did not change since).
    const durable = [...durableRecords(project)].filter(([, finishedAt]) => finishedAt >= roundStart).map(([id]) => id);

    // Debug logs: a failure here comes with every warning and error the run logged.
    const resumed = await project.run(['run', '--json', '--log-level', 'debug', '--log-format', 'json'], { timeoutMs: 300_000 });
    figures.resumes++;
    expect({ round, code: resumed.code, why: describeResult(resumed) }).toEqual({ round, code: 0, why: describeResult(resumed) });
    const cached = new Set(idsWith(resumed.summary, 'cached'));
    // Nothing committed is redone, and nothing else is trusted: the outputs prove the rest.
    expect({ round, notReused: durable.filter((id) => !cached.has(id)) }).toEqual({ round, notReused: [] });
    figures.committedReused += durable.length;
    figures.redone += idsWith(resumed.summary, 'executed').filter((id) => executedByKilled.has(id)).length;

    const outputs = project.outputs();
    expect({ round, state, differ: snapshotDiff(outputs, expected[state]) }).toEqual({ round, state, differ: [] });
    figures.filesCompared += outputs.size;
    figures.bytesCompared += snapshotBytes(outputs);

    const noop = await project.run(['run', '--json'], { timeoutMs: 300_000 });
    // The run's description is on both sides: it shows only when the rest differs.
    const why = describeResult(noop);
    expect({ round, executed: noop.summary?.executed, cached: noop.summary?.cached, why }).toEqual({ round, executed: 0, cached: TOTAL, why });
  }

  // --force killed on a finished build: every valid result stays valid (a record is replaced only by a
  // committed replacement, never deleted before its task runs).
  const recordsBefore = durableRecords(project).size;
  expect(recordsBefore).toBe(TOTAL);
  let forceKills = 0;
  for (let k = 0; k < FORCE_KILLS; k++) {
    // Within the first 80 % of a cold build's time: a forced run of everything takes about as long.
    const { killed, stderr } = await killOnce(coldMs * 0.8, ['--force'], true);
    if (killed) {
      forceKills++;
      const phase = `--force: ${phaseOf(stderr)}`;
      figures.phases.set(phase, (figures.phases.get(phase) ?? 0) + 1);
    }
    expect({ k, records: durableRecords(project).size }).toEqual({ k, records: recordsBefore });
    const after = await project.run(['run', '--json'], { timeoutMs: 300_000 });
    const why = describeResult(after);
    expect({ k, code: after.code, executed: after.summary?.executed, cached: after.summary?.cached, why }).toEqual({ k, code: 0, executed: 0, cached: TOTAL, why });
    expect({ k, differ: snapshotDiff(project.outputs(), expected[state]) }).toEqual({ k, differ: [] });
  }
  figures.kills += forceKills;
  console.log(`--force killed ${forceKills} times of ${FORCE_KILLS}: ${recordsBefore} records before, as many after each kill`);
  expect(forceKills).toBeGreaterThanOrEqual(FORCE_KILLS / 2);
  project.cleanup();

  const phases = [...figures.phases].map(([phase, n]) => `${phase}: ${n}`).join(', ');
  console.log(
    `SIGKILL loop (seed ${SEED}): ${figures.kills} kills survived (${figures.missed} runs finished before their kill), ` +
      `${figures.resumes} resumed runs completed, every one byte-identical to a clean build\n` +
      `  kills by phase: ${phases}\n` +
      `  results committed by killed runs and reused: ${figures.committedReused}; tasks executed by a killed run but lost to the kill and redone: ${figures.redone}\n` +
      `  outputs compared: ${figures.filesCompared} files, ${figures.bytesCompared.toLocaleString('en-US')} bytes; lost: 0`,
  );
  expect(figures.kills).toBeGreaterThanOrEqual(Math.min(20, ROUNDS * 2));
});
