/**
 * Issue 15, end to end: the permission cases (run as nobody under root) from a clone inside a 0700 folder,
 * as /root or `mktemp -d` make. The clone is this built tree hard-linked into the private folder (bin/,
 * dist/, node_modules, sources and tests; no .git), and jest runs the real cases there:
 *
 * 1. With the usual temporary folder, they run and pass: nobody runs a copy of the installed CLI.
 * 2. With TMPDIR inside the private folder (the test projects themselves out of nobody's reach), they
 *    are skipped, each with a line naming the folder that blocks them, and nothing fails.
 *
 * The cases: "a read-only cache" (3) in faults.slow.test.ts and the two "an unreadable ..." inputs of
 * bad-input.slow.test.ts. Needs root, to run a child as nobody.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot, ROOT } from '../helpers/reliability-project.js';
import { linkTree, NOBODY, whyUserCannotRun } from '../helpers/run-as-user.js';
import { describeIf } from '../helpers/shared.js';

const FILES = ['test/reliability/faults.slow.test.ts', 'test/reliability/bad-input.slow.test.ts'];
const CASES = /a read-only cache|an unreadable/;
/** Generated folders of a working tree (.gitignore) that a clone does not have; dist/ and node_modules/ it has after `npm ci`. */
const NOT_CLONED = new Set(['.git', 'demo', 'out', '.mdpipe', 'coverage']);

interface JestJson {
  numFailedTests: number;
  numPassedTests: number;
  testResults: { assertionResults: { fullName: string; status: string }[] }[];
}

/** Runs the permission cases with jest in `clone`; their statuses by full name, and jest's stderr. */
function runCases(clone: string, home: string, env: Record<string, string> = {}): { status: number | null; json: JestJson; cases: Map<string, string>; stderr: string } {
  const output = join(home, `jest-${Date.now()}.json`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.JEST_WORKER_ID;
  const r = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', 'node_modules/jest/bin/jest.js', '-c', 'jest.faults.config.js', '--json', `--outputFile=${output}`, `--cacheDirectory=${join(home, 'jest-cache')}`, '-t', CASES.source, ...FILES],
    { cwd: clone, env: childEnv, encoding: 'utf8', timeout: 540_000 },
  );
  if (!existsSync(output)) throw new Error(`jest wrote no results (exit ${r.status ?? r.signal}):\n${r.stderr}`);
  const json = JSON.parse(readFileSync(output, 'utf8')) as JestJson;
  const cases = new Map(json.testResults.flatMap((f) => f.assertionResults).filter((a) => CASES.test(a.fullName)).map((a) => [a.fullName, a.status]));
  return { status: r.status, json, cases, stderr: r.stderr };
}

const cannotRun = isRoot ? whyUserCannotRun(NOBODY) : 'not root: the permission cases run as nobody only under root';
describeIf(!cannotRun, cannotRun ?? '', 'the permission cases from a clone in a private folder', () => {
  let home: string;
  let clone: string;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'mdpipe-private-'));
    expect(statSync(home).mode & 0o777).toBe(0o700);
    clone = join(home, 'clone');
    mkdirSync(clone);
    for (const name of readdirSync(ROOT)) if (!NOT_CLONED.has(name)) linkTree(join(ROOT, name), join(clone, name));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('run and pass: nobody runs a copy of the CLI, deleted afterwards', () => {
    const r = runCases(clone, home);
    const why = `${r.stderr.slice(-6000)}`;
    expect({ status: r.status, failed: r.json.numFailedTests, why }).toEqual({ status: 0, failed: 0, why });
    expect([...r.cases.values()]).toEqual(['passed', 'passed', 'passed', 'passed', 'passed']);
    // Once per test file, the line saying which folder blocked nobody and where the copy went.
    const notice = new RegExp(`${home} is not enterable by others \\(mode 700\\): the CLI runs as user nobody from a copy in (\\S+), made in`, 'g');
    const copies = [...r.stderr.matchAll(notice)].map((m) => m[1]);
    expect(copies).toHaveLength(FILES.length);
    for (const copy of copies) expect(existsSync(copy)).toBe(false);
  });

  test('with the temporary folder out of reach too: skipped, each naming the folder; nothing fails', () => {
    const temp = join(home, 'tmp');
    mkdirSync(temp);
    const r = runCases(clone, home, { TMPDIR: temp });
    const why = `${r.stderr.slice(-6000)}`;
    expect({ status: r.status, failed: r.json.numFailedTests, passed: r.json.numPassedTests, why }).toEqual({ status: 0, failed: 0, passed: 0, why });
    const blocked = `${home} is not enterable by others (mode 700), on the way to the temporary folder ${temp}`;
    for (const name of ['a read-only cache', 'an unreadable checkpoint folder (chmod 000 on its parent)', 'an unreadable file (chmod 000)']) {
      expect(r.stderr).toContain(`skipping "${name}": ${blocked}`);
    }
    expect([...r.cases.values()]).toEqual(['pending', 'pending', 'pending']);
  });
});
