/**
 * Faults from outside, end to end through the CLI: Ctrl-C, a full disk, a read-only cache, a damaged
 * cache. Each must end in a clear message (no stack trace), and lose nothing already built: the run after
 * the fault is cured executes exactly what was not done yet, and every output equals a clean build's
 * byte for byte. (SIGKILL at random moments is the long loop in sigkill-loop.slow.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SMALL_AXES } from '../../synth/index.js';
import {
  canMountTmpfs,
  chownTree,
  cleanBuildOutputs,
  createProject,
  describeResult,
  idsWith,
  isRoot,
  limiter,
  MEDIUM_AXES,
  NOBODY,
  once,
  partitionAndDownstream,
  removeScratch,
  snapshot,
  snapshotDiff,
  stackTraceLines,
  taskCount,
  TRACE,
  type CliResult,
  type Coords,
  type Project,
  whyUserCannotRun,
} from '../helpers/reliability-project.js';
import { describeIf } from '../helpers/shared.js';

/** The partition whose input the tests change, and the folder its new content comes from. */
const AT: Coords = { bs: 64, width: 8, data: '05' };
const FROM: Coords = { bs: 16, width: 32, data: '10' };

/** Replaces AT's loss_acc_test.pkl with FROM's: a valid file with other numbers (test_acc changes). */
function changeInput(p: Project): void {
  copyFileSync(p.file('basic', FROM, 'loss_acc_test.pkl'), p.file('basic', AT, 'loss_acc_test.pkl'));
}

function expectExit(r: CliResult, code: number): void {
  const why = describeResult(r);
  expect({ code: r.code, why }).toEqual({ code, why });
}

/** A clear message: no stack trace, not reported as an internal error. */
function expectClear(r: CliResult): void {
  expect(stackTraceLines(r.stderr)).toEqual([]);
  expect(r.stderr).not.toMatch(/internal error/);
}

/** Clean builds of the small trees (before and after `changeInput`) and of the medium ones, made on first use. */
const smallBefore = once(() => cleanBuildOutputs());
const smallAfter = once(() => cleanBuildOutputs({}, changeInput));
const mediumClean = once(() => cleanBuildOutputs({ axes: MEDIUM_AXES }));
/** The tests below the Ctrl-C ones are independent projects: they run two at a time. */
const twoAtATime = limiter(2);
afterAll(() => removeScratch());

describe('Ctrl-C (SIGINT)', () => {
  const total = taskCount(MEDIUM_AXES);

  test.each([
    ['after the first commit', /"msg":"committed"/],
    ['when the exports start', /"msg":"start export:/],
  ])('%s: exit 130 saying so; the next run does exactly the rest; outputs equal a clean build', async (_when, event) => {
    const p = await createProject({ axes: MEDIUM_AXES, name: 'sigint' });
    const child = p.spawn(['run', '--json', ...TRACE]);
    await child.waitForStderr(event);
    child.process.kill('SIGINT');
    const first = await child.done;
    expectExit(first, 130);
    expectClear(first);
    expect(first.stderr).toContain('stopping: no new task starts; running tasks finish and are stored');
    const m = /interrupted: ([\d,]+) tasks? finished, ([\d,]+) not started; run again to continue/.exec(first.stderr);
    expect(m).not.toBeNull();
    expect(first.summary!.ok).toBe(false);

    const resumed = await p.run(['run', '--json']);
    expectExit(resumed, 0);
    // Whatever the interrupted run finished is reused; exactly the rest runs.
    const done = idsWith(first.summary, 'executed');
    expect(done.length).toBeGreaterThan(0);
    expect(idsWith(resumed.summary, 'cached')).toEqual(expect.arrayContaining(done));
    expect(resumed.summary!.executed + done.length).toBe(total);
    expect(snapshotDiff(p.outputs(), await mediumClean())).toEqual([]);
    expect((await p.run(['run', '--json'])).summary!.executed).toBe(0);
    p.cleanup();
  });

  test('pressed twice: quits at once, saying what is lost; the next run still completes to a clean build', async () => {
    const p = await createProject({ axes: MEDIUM_AXES, name: 'sigint2' });
    // Pressed twice within milliseconds (a stopping run ends in ~50 ms): without the override, two signals
    // within 200 ms are one interrupt (`timeout -s INT`; test/cli/interrupt.slow.test.ts checks that).
    const child = p.spawn(['run', '--json', ...TRACE], { env: { MDPIPE_SAME_INTERRUPT_MS: '0' } });
    await child.waitForStderr(/"msg":"committed"/);
    child.process.kill('SIGINT');
    await child.waitForStderr('stopping: no new task starts');
    child.process.kill('SIGINT');
    const first = await child.done;
    expectExit(first, 130);
    expectClear(first);
    expect(first.stderr).toContain('interrupted again: quitting at once');

    const resumed = await p.run(['run', '--json']);
    expectExit(resumed, 0);
    expect(resumed.summary!.cached).toBeGreaterThan(0);
    expect(snapshotDiff(p.outputs(), await mediumClean())).toEqual([]);
    expect((await p.run(['run', '--json'])).summary!.executed).toBe(0);
    p.cleanup();
  });
});

const tmpfsOk = canMountTmpfs();
if (!tmpfsOk) console.warn('skipping the full-disk tests: mounting a small tmpfs needs root outside a restricted container');
const describeIfTmpfs = tmpfsOk ? describe : describe.skip;

/** Fills the file system holding `dir` until `leave` bytes are free (a file named filler in `dir`). */
function fill(dir: string, leave: number): string {
  const filler = join(dir, 'filler');
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(filler, Buffer.alloc(Math.max(0, Number(bavail) * Number(bsize) - leave)));
  return filler;
}

describeIfTmpfs('a full disk (a small tmpfs)', () => {
  /** A project whose cache or output folder is on a 16 MiB tmpfs mounted in it. */
  async function projectOnTmpfs(which: 'cacheDir' | 'outDir'): Promise<{ p: Project; mount: string; unmount(): void }> {
    const p = await createProject({ name: `full-${which}` });
    const mount = join(p.dir, 'small-disk');
    mkdirSync(mount);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mount]).status).toBe(0);
    p.writeConfig((c) => ({ ...c, [which]: `small-disk/${which === 'cacheDir' ? 'cache' : 'out'}` }));
    return { p, mount, unmount: () => void spawnSync('umount', [mount]) };
  }

  // Three places a full disk bites: taking the lock, opening the database, committing results mid-run.
  test.concurrent.each([
    ['no byte left', 0, /cannot use the cache directory/],
    ['a few pages left', 40 * 1024, /could not open the cache store/],
    ['room to open the database, not to commit', 200 * 1024, /could not write .* to the cache store/],
  ])('the cache on a full disk (%s): a clear error, then nothing already built is redone', (_label, leave, where) => twoAtATime(async () => {
    const { p, mount, unmount } = await projectOnTmpfs('cacheDir');
    try {
      expectExit(await p.run(['run', '--json']), 0);
      const filler = fill(mount, leave);
      changeInput(p);
      const full = await p.run(['run', '--json']);
      expectExit(full, 1);
      expectClear(full);
      expect(full.stderr).toMatch(/no space left on device|disk is full|database or disk is full/i);
      expect(full.stderr).toContain(join(mount, 'cache'));
      expect(full.stderr).toMatch(/free (some )?space/i);
      expect(full.stderr).toMatch(where);

      rmSync(filler);
      const cured = await p.run(['run', '--json']);
      expectExit(cured, 0);
      // Only what the change made stale runs (less, where the failed run got to commit some of it).
      const executed = idsWith(cured.summary, 'executed');
      expect(executed.length).toBeGreaterThan(0);
      expect(partitionAndDownstream('basic', AT)).toEqual(expect.arrayContaining(executed));
      expect(snapshotDiff(p.outputs(), await smallAfter())).toEqual([]);
    } finally {
      unmount();
      p.cleanup();
    }
  }));

  test.concurrent('the outputs on a full disk: the export fails naming the file, the old outputs stay whole', () => twoAtATime(async () => {
    const { p, mount, unmount } = await projectOnTmpfs('outDir');
    const outDir = join(mount, 'out');
    try {
      expectExit(await p.run(['run', '--json']), 0);
      const filler = fill(mount, 0);
      changeInput(p);
      const full = await p.run(['run', '--json']);
      expectExit(full, 1);
      expectClear(full);
      expect(idsWith(full.summary, 'failed')).toEqual(['export:basic']);
      expect(full.stderr).toContain(join(outDir, 'basic'));
      expect(full.stderr).toMatch(/no space left on device/i);
      // The files published before are intact (and no temporary is left): a failed publish never leaves half a file.
      expect(readdirSync(join(outDir, 'basic')).sort()).toEqual(['dataframe.csv', 'dictionary.json', 'dictionary.npy', 'grid.npz', 'report.json']);
      const before = new Map([...await smallBefore()].filter(([k]) => k.startsWith('basic/')));
      const now = new Map([...snapshot(outDir)].filter(([k]) => k.startsWith('basic/')));
      expect(snapshotDiff(now, before)).toEqual([]);

      rmSync(filler);
      const cured = await p.run(['run', '--json']);
      expectExit(cured, 0);
      expect(idsWith(cured.summary, 'executed')).toEqual(['export:basic']);
      expect(snapshotDiff(snapshot(outDir), await smallAfter())).toEqual([]);
    } finally {
      unmount();
      p.cleanup();
    }
  }));
});

/** Under root, the read-only cache cases run the CLI as nobody: here, unless nobody cannot reach the temporary folder. */
const readOnlyUser = isRoot ? NOBODY : undefined;
const readOnlyBlocked = readOnlyUser && whyUserCannotRun(readOnlyUser);

describeIf(!readOnlyBlocked, readOnlyBlocked || '', 'a read-only cache', () => {
  if (!isRoot) console.warn('not root: the read-only cache tests chmod the cache directly');

  test.concurrent.each([
    ['the cache directory is read-only', (cache: string) => chmodSync(cache, 0o555)],
    ['the cache files are read-only (the directory is not)', (cache: string) => {
      for (const name of readdirSync(cache)) chmodSync(join(cache, name), 0o444);
    }],
    ['the cache directory and its files are read-only', (cache: string) => {
      for (const name of readdirSync(cache)) chmodSync(join(cache, name), 0o444);
      chmodSync(cache, 0o555);
    }],
  ])('%s: a clear error naming it; once writable, nothing already built is redone', (_label, makeReadOnly) => twoAtATime(async () => {
    const p = await createProject({ name: 'readonly' });
    const user = readOnlyUser;
    if (user) chownTree(p.dir, user.uid, user.gid);
    expectExit(await p.run(['run', '--json'], { user }), 0);
    const outputsBefore = p.outputs();

    makeReadOnly(p.cacheDir);
    changeInput(p);
    const refused = await p.run(['run', '--json'], { user });
    expectExit(refused, 1);
    expectClear(refused);
    expect(refused.stderr).toContain(p.cacheDir);
    expect(refused.stderr).toMatch(/permission denied|read-only|readonly/i);
    expect(refused.stderr).toMatch(/fix:|chmod|writable/i);
    expect(snapshotDiff(p.outputs(), outputsBefore)).toEqual([]);

    chmodSync(p.cacheDir, 0o755);
    for (const name of readdirSync(p.cacheDir)) chmodSync(join(p.cacheDir, name), 0o644);
    const cured = await p.run(['run', '--json'], { user });
    expectExit(cured, 0);
    expect(idsWith(cured.summary, 'executed')).toEqual(partitionAndDownstream('basic', AT));
    expect(snapshotDiff(p.outputs(), await smallAfter())).toEqual([]);
    p.cleanup();
  }));
});

describe('a damaged cache', () => {
  /** Flips one byte inside the stored blob of `digest` (the row keeps its key: only the content is wrong). */
  function corruptBlob(db: Database.Database, digest: string): void {
    const row = db.prepare('SELECT value FROM keyv WHERE key = ?').get(`blobs:${digest}`) as { value: string } | undefined;
    expect(row).toBeDefined();
    const stored = JSON.parse(row!.value) as { value: string };
    const bytes = Buffer.from(stored.value, 'base64');
    bytes[bytes.length >> 1] ^= 0x5a;
    stored.value = bytes.toString('base64');
    db.prepare('UPDATE keyv SET value = ? WHERE key = ?').run(JSON.stringify(stored), `blobs:${digest}`);
  }

  function record(db: Database.Database, id: string): { output: { digest: string; files: Record<string, string> } } {
    const row = db.prepare('SELECT value FROM keyv WHERE key = ?').get(`records:${id}`) as { value: string };
    return (JSON.parse(row.value) as { value: { output: { digest: string; files: Record<string, string> } } }).value;
  }

  test.concurrent('a corrupted cache entry is detected by its content hash and rebuilt; outputs equal a clean build', () => twoAtATime(async () => {
    const p = await createProject({ name: 'corrupt' });
    expectExit(await p.run(['run', '--json']), 0);
    const victim = 'parse:basic/bs256-w2-d05';
    const db = new Database(join(p.cacheDir, 'cache.sqlite'));
    try {
      // A parse result that a full grid:basic reads, and the blob of a published file that must be restored
      // (the file is deleted below).
      corruptBlob(db, record(db, victim).output.digest);
      corruptBlob(db, record(db, 'export:noisy').output.files['noisy/dataframe.csv']);
    } finally {
      db.close();
    }
    rmSync(join(p.outDir, 'noisy', 'dataframe.csv'));
    changeInput(p);

    const r = await p.run(['run', '--json']);
    expectExit(r, 0);
    expectClear(r);
    // The published file was detected by its content hash and said so. The grid patched its previous value
    // with the changed checkpoint alone, so the victim's stored bytes were not read: nothing to detect yet.
    expect(r.stderr).toContain('a published file of export:noisy is corrupt in the cache; running the task again');
    const executed = idsWith(r.summary, 'executed');
    expect(executed.sort()).toEqual([...partitionAndDownstream('basic', AT), 'export:noisy'].sort());
    expect(snapshotDiff(p.outputs(), await smallAfter())).toEqual([]);

    // A grid built in full reads every parse output: the corrupt one is detected, rebuilt, and the grid
    // comes out the same (so nothing downstream runs).
    const full = await p.run(['run', 'grid:basic', '--force', '--json']);
    expectExit(full, 0);
    expect(full.stderr).toContain(`stored output of ${victim} is corrupt in the cache; running it again`);
    expect(idsWith(full.summary, 'executed').sort()).toEqual(['grid:basic', victim].sort());
    expect(snapshotDiff(p.outputs(), await smallAfter())).toEqual([]);
    expect((await p.run(['run', '--json'])).summary!.executed).toBe(0);
    p.cleanup();
  }));

  // A damaged database is derived data: moved aside (named in a warning) and the build goes on from an
  // empty cache; published outputs are not touched (not even rewritten with the same bytes).
  const damages: [string, (file: string) => void][] = [
    ['not SQLite at all', (file) => writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a))],
    ['truncated', (file) => writeFileSync(file, readFileSync(file).subarray(0, Math.floor(statSync(file).size / 3)))],
    // Garbage over every page after the header page: the file still opens as SQLite; reading it fails.
    ['corrupt pages', (file) => writeFileSync(file, Buffer.concat([readFileSync(file).subarray(0, 4096), Buffer.alloc(statSync(file).size - 4096, 0xa5)]))],
  ];
  test.concurrent.each(damages)('a damaged cache database file (%s): moved aside with a warning, the build goes on, outputs untouched', (name, damage) => twoAtATime(async () => {
    const p = await createProject({ name: `dbdamage-${name.replace(/\W+/g, '-')}` });
    expectExit(await p.run(['run', '--json']), 0);
    const file = join(p.cacheDir, 'cache.sqlite');
    expect(statSync(file).size).toBeGreaterThan(8192);
    for (const extra of readdirSync(p.cacheDir)) if (extra.startsWith('cache.sqlite-')) rmSync(join(p.cacheDir, extra));
    damage(file);
    const damagedBytes = readFileSync(file);
    const before = p.outputs();
    const mtimes = new Map([...before.keys()].map((rel) => [rel, statSync(join(p.outDir, rel)).mtimeMs]));

    const r = await p.run(['run', '--json']);
    expectExit(r, 0);
    expectClear(r);
    const m = /the cache database was damaged \(.*\); moved it aside to (\S+) and started from an empty cache/.exec(r.stderr);
    expect({ name, warning: m !== null, stderr: r.stderr.slice(0, 500) }).toMatchObject({ name, warning: true });
    // Kept for a post-mortem (SQLite may have rewritten a header field of page 1 while opening it).
    expect(readFileSync(m![1]).subarray(4096).equals(damagedBytes.subarray(4096))).toBe(true);
    expect(r.summary!.executed).toBe(taskCount(SMALL_AXES));
    expect(snapshotDiff(p.outputs(), before)).toEqual([]);
    for (const [rel, mtime] of mtimes) expect({ rel, mtime: statSync(join(p.outDir, rel)).mtimeMs }).toEqual({ rel, mtime });
    expect((await p.run(['run', '--json'])).summary!.executed).toBe(0);
    p.cleanup();
  }));
});
