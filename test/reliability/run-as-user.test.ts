/**
 * The helper that lets the permission tests run the CLI as nobody wherever the clone is (issue 15),
 * on a tiny installed tree (package.json, bin/mdpipe.js, dist/, node_modules/) inside a 0700 folder: it
 * must find the folder that blocks nobody, run a copy that works, and turn a loader failure into a setup
 * error naming that folder. Needs root (to run as nobody); the end-to-end check on the real permission
 * cases from a private clone is private-clone.slow.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRoot } from '../helpers/reliability-project.js';
import { cliFor, firstBlocked, NOBODY, ownCli, pathDown, removeCliCopies, setupFailure, whyUserCannotRun, type Cli } from '../helpers/run-as-user.js';
import { describeIf } from '../helpers/shared.js';

/** A tiny installed CLI at `root`: bin/mdpipe.js prints its uid and a value from dist/ and node_modules/. */
function tinyCli(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist'));
  mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', files: ['bin/mdpipe.js', 'dist/'] }));
  writeFileSync(join(root, 'bin', 'bundle.mjs'), 'not part of an installed package\n');
  writeFileSync(join(root, 'bin', 'mdpipe.js'), "import { x } from '../dist/x.js';\nconsole.log(JSON.stringify({ uid: process.getuid(), x }));\n");
  writeFileSync(join(root, 'dist', 'x.js'), "import { createRequire } from 'node:module';\nexport const x = createRequire(import.meta.url)('dep') + 1;\n");
  writeFileSync(join(root, 'node_modules', 'dep', 'index.js'), 'module.exports = 41;\n');
}

function runAs(cli: Cli): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(cli.node, [cli.bin], { ...NOBODY, cwd: '/', encoding: 'utf8', timeout: 30_000 });
}

describeIf(isRoot, 'not root: cannot run a child as nobody', 'running the CLI as nobody from a clone in a private folder', () => {
  let home: string;
  let root: string;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'mdpipe-private-')); // 0700, as mktemp -d and /root
    root = join(home, 'clone');
    tinyCli(root);
  });
  afterEach(() => {
    removeCliCopies();
    rmSync(home, { recursive: true, force: true });
  });

  test('the blocking folder is found; a copy in a world-readable folder runs as nobody, made once', () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    const own = ownCli(root);
    // The tree as cloned really cannot be run by nobody: Node's loader gives up before the script runs.
    const direct = runAs(own);
    expect(direct.status).not.toBe(0);
    expect(direct.stderr).toContain('Cannot find module');
    expect(firstBlocked(NOBODY, pathDown(own.bin).map((p) => `x:${p}`))).toBe(home);

    const copy = cliFor(NOBODY, root);
    expect(copy.root).not.toBe(root);
    expect(copy.root.startsWith(tmpdir())).toBe(true);
    expect(copy.node).toBe(process.execPath);
    const r = runAs(copy);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ uid: NOBODY.uid, x: 42 });
    // Only what an installed package holds: bin/bundle.mjs (not in `files`) stays behind.
    expect(statSync(join(copy.root, 'bin', 'bundle.mjs'), { throwIfNoEntry: false })).toBeUndefined();
    expect(cliFor(NOBODY, root)).toBe(copy);

    removeCliCopies();
    expect(statSync(copy.root, { throwIfNoEntry: false })).toBeUndefined();
  });

  test('a clone that nobody can reach is run in place, without a copy', () => {
    chmodSync(home, 0o755);
    expect(cliFor(NOBODY, root)).toEqual(ownCli(root));
  });

  test('a file others cannot read is copied and made readable; the clone keeps its mode', () => {
    chmodSync(home, 0o755);
    const x = join(root, 'dist', 'x.js');
    chmodSync(x, 0o600); // as a clone made under umask 077
    expect(runAs(ownCli(root)).status).not.toBe(0);
    const copy = cliFor(NOBODY, root);
    expect(copy.root).not.toBe(root);
    expect(JSON.parse(runAs(copy).stdout)).toEqual({ uid: NOBODY.uid, x: 42 });
    expect(statSync(x).mode & 0o777).toBe(0o600);
  });

  test('a node binary in a private folder is copied too', () => {
    const node = join(home, 'nvm', 'node');
    mkdirSync(join(home, 'nvm'));
    linkSync(process.execPath, node);
    const copy = cliFor(NOBODY, root, node);
    expect(copy.node).toBe(join(copy.root, 'node'));
    expect(JSON.parse(runAs(copy).stdout)).toEqual({ uid: NOBODY.uid, x: 42 });
  });

  test("a child that died in Node's loader is a setup error naming the folder; the product's own errors are not", () => {
    const own = ownCli(root);
    const direct = runAs(own);
    const message = setupFailure(NOBODY, own, direct.stderr);
    expect(message).toContain(`test setup: user nobody cannot load the CLI from ${root}: ${home} is not enterable by others (mode 700)`);
    // EACCES on a file of the CLI, as Node's loader prints it.
    chmodSync(home, 0o755);
    chmodSync(own.bin, 0o600);
    const unreadable = runAs(own);
    expect(unreadable.stderr).toContain(`EACCES: permission denied, open '${own.bin}'`);
    expect(setupFailure(NOBODY, own, unreadable.stderr)).toContain(`${own.bin} is not readable by others (mode 600)`);
    // A folder of it that others cannot enter (ESM's "Cannot find module ... imported from").
    chmodSync(own.bin, 0o644);
    chmodSync(join(root, 'dist'), 0o700);
    const folder = runAs(own);
    expect(folder.stderr).toContain('ERR_MODULE_NOT_FOUND');
    expect(setupFailure(NOBODY, own, folder.stderr)).toContain(`${join(root, 'dist')} is not enterable by others (mode 700)`);
    // What mdpipe says about the project's files is the product's answer, left to the test.
    const product = `error: cannot read ${home}/project/raw/basic/loss_acc_test.pkl: EACCES: permission denied, open '${home}/project/raw/basic/loss_acc_test.pkl'\n`;
    expect(setupFailure(NOBODY, own, product)).toBeUndefined();
  });

  test('a temporary folder nobody cannot reach skips the cases, naming the folder', () => {
    const temp = join(home, 'tmp');
    mkdirSync(temp);
    expect(whyUserCannotRun(NOBODY, temp)).toMatch(new RegExp(`^${home} is not enterable by others \\(mode 700\\), on the way to the temporary folder ${temp}.*TMPDIR`));
    expect(whyUserCannotRun(NOBODY, tmpdir())).toBeUndefined();
  });
});
