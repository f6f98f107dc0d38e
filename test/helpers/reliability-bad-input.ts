/**
 * The bad-input scenario, shared by the bad-input test files (split in two so jest runs them side by
 * side): one bad input planted in one checkpoint folder of `basic`, then three runs of the real CLI.
 *
 * 1. A cold build: exit 1; the error names the file and says what is wrong, with no stack trace; every
 *    other partition and the whole `noisy` collection are built (counted in `run --json`); only the
 *    failed partition's downstream is skipped.
 * 2. The same again: the failed partition executes again (it has no record) and nothing else does.
 * 3. The good input restored: exactly that partition and its downstream run, and every output equals a
 *    clean build's byte for byte.
 *
 * Hostile pickles also prove that nothing ran (the marker file their call would create does not exist,
 * while CPython's pickle.loads, where /usr/bin/python3 exists, does create it from the same bytes), and
 * hostile sizes that the child's peak memory stays bounded (with /usr/bin/time).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreGood, type BadInput, type PlantContext } from './reliability-inputs.js';
import {
  chownTree,
  cleanBuildOutputs,
  COLLECTION_TASKS,
  createProject,
  describeResult,
  hasTime,
  idsWith,
  isRoot,
  limiter,
  NOBODY,
  once,
  parseId,
  partitionAndDownstream,
  removeScratch,
  snapshotDiff,
  stackTraceLines,
  taskCount,
  TIME,
  type CliResult,
  type Coords,
  whyUserCannotRun,
} from './reliability-project.js';
import { skipVisibly } from './shared.js';
import { SMALL_AXES } from '../../synth/index.js';

/** The checkpoint folder that gets the bad input. */
export const BAD_AT: Coords = { bs: 16, width: 2, data: '10' };
const FAILED = parseId('basic', BAD_AT);
const SKIPPED = COLLECTION_TASKS.map((k) => `${k}:basic`).sort();
const ALL_TASKS = taskCount(SMALL_AXES);
/** Peak RSS allowed for a run fed a hostile size (a normal small run peaks near 100 MB). */
export const RSS_LIMIT_KB = 300 * 1024;

const PYTHON = '/usr/bin/python3';
const hasPython = existsSync(PYTHON);

/** Asserts what the first two runs share: exit 1, the file and problem named, no stack, only it failed. */
function expectFailedAlone(r: CliResult, named: string, bad: BadInput): void {
  const why = describeResult(r);
  expect({ code: r.code, why }).toEqual({ code: 1, why });
  expect(idsWith(r.summary, 'failed')).toEqual([FAILED]);
  expect(idsWith(r.summary, 'skipped')).toEqual(SKIPPED);
  expect(r.stderr).toContain(named);
  expect(r.stderr).toMatch(bad.problem);
  expect(stackTraceLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toMatch(/internal error/);
}

/** The published files of one collection. */
const filesOf = (files: Map<string, Buffer>, collection: string): Map<string, Buffer> =>
  new Map([...files].filter(([path]) => path.startsWith(`${collection}/`)));

/**
 * Declares one test per bad input (and prints the figures at the end). The cases are independent
 * projects, so they run two at a time (`test.concurrent`); the clean reference build is shared.
 */
export function describeBadInputs(title: string, cases: readonly BadInput[]): void {
  describe(title, () => {
    const reference = once(() => cleanBuildOutputs());
    const tried: { input: string; rssKb?: number }[] = [];
    const twoAtATime = limiter(2);

    beforeAll(() => {
      if (!hasTime) console.warn(`skipping the peak-memory assertions: ${TIME} is absent`);
      if (!hasPython) console.warn(`skipping the check that hostile pickles really run code in CPython: ${PYTHON} is absent`);
      if (!isRoot) console.warn('not root: the unreadable-file cases chmod directly');
    });

    afterAll(() => {
      removeScratch();
      const rss = tried.filter((t) => t.rssKb !== undefined).map((t) => `${t.input}: ${Math.round(t.rssKb! / 1024)} MiB peak RSS`);
      console.log(`${title}: ${tried.length} bad inputs tried through the CLI\n  ${tried.map((t) => t.input).join('\n  ')}${rss.length ? `\n  ${rss.join('\n  ')}` : ''}`);
    });

    // Under root the unprivileged cases run the CLI as nobody: skipped, saying why, where nobody cannot
    // reach the temporary folder that holds the projects.
    const blocked = isRoot ? whyUserCannotRun(NOBODY) : undefined;
    const runnable = cases.filter((bad) => !(bad.unprivileged && blocked));
    for (const bad of cases) if (!runnable.includes(bad)) skipVisibly(bad.name, blocked!);

    test.concurrent.each(runnable.map((bad) => [bad.name, bad] as const))('%s', (_name, bad) => twoAtATime(async () => {
      const expected = await reference();
      expect(expected.size).toBe(10); // 5 files per collection (dictionary.npy since issue 13)
      const project = await createProject({ name: 'bad' });
      const path = bad.file === 'folder' ? project.folder('basic', BAD_AT) : project.file('basic', BAD_AT, bad.file);
      const good = bad.file === 'folder' ? Buffer.alloc(0) : readFileSync(path);
      const marker = join(tmpdir(), `mdpipe-rel-marker-${process.pid}-${cases.indexOf(bad)}-${Date.now()}`);
      rmSync(marker, { force: true });
      const ctx: PlantContext = { path, good, marker };
      const user = bad.unprivileged && isRoot ? NOBODY : undefined;
      if (user) chownTree(project.dir, user.uid, user.gid);
      bad.plant(ctx);
      // The error names the file (for a folder case, a file inside it: the path starts with the folder's).
      const named = path;

      // 1. Cold build: everything else is built.
      const first = await project.run(['run', '--json'], { user, measureRss: bad.boundedMemory });
      expectFailedAlone(first, named, bad);
      expect(first.summary!.executed).toBe(ALL_TASKS - 1 - SKIPPED.length);
      expect(filesOf(project.outputs(), 'noisy')).toEqual(filesOf(expected, 'noisy'));
      expect(filesOf(project.outputs(), 'basic').size).toBe(0);
      if (bad.boundedMemory && first.maxRssKb !== undefined) expect(first.maxRssKb).toBeLessThan(RSS_LIMIT_KB);
      tried.push({ input: bad.name, rssKb: bad.boundedMemory ? first.maxRssKb : undefined });

      // 2. Again: the failed partition was not cached, so it (and only it) is tried again.
      const second = await project.run(['run', '--json'], { user });
      expectFailedAlone(second, named, bad);
      expect(idsWith(second.summary, 'executed')).toEqual([]);
      expect(second.summary!.cached).toBe(ALL_TASKS - 1 - SKIPPED.length);

      if (bad.createsMarker) {
        expect(existsSync(marker)).toBe(false);
        if (hasPython) {
          // The same bytes really are hostile: CPython's unpickler makes the call, which creates the marker.
          spawnSync(PYTHON, ['-c', 'import pickle, sys; pickle.loads(sys.stdin.buffer.read())'], { input: readFileSync(path), timeout: 30_000, cwd: tmpdir() });
          for (let i = 0; i < 50 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
          expect(existsSync(marker)).toBe(true);
          rmSync(marker, { force: true });
        }
      }

      // 3. Fixed: only that partition and its downstream run; the outputs are a clean build's.
      if (bad.restore) bad.restore(ctx);
      else restoreGood(path, good);
      const third = await project.run(['run', '--json'], { user });
      expect({ code: third.code, why: describeResult(third) }).toEqual({ code: 0, why: describeResult(third) });
      expect(idsWith(third.summary, 'executed')).toEqual(partitionAndDownstream('basic', BAD_AT));
      expect(snapshotDiff(project.outputs(), expected)).toEqual([]);
      project.cleanup();
    }));
  });
}
