/**
 * Starting the CLI as another user (the permission tests run it as nobody under root), wherever the clone is
 * (issue 15).
 *
 * A clone inside a folder only its owner can enter (/root is 0700, and so is what `mktemp -d` makes) cannot
 * be reached by nobody: Node dies in its module loader before a line of mdpipe runs, and a test that reads
 * the exit code would blame the product. So before the first such child, what it needs (every folder up to
 * the clone and to the node binary, the installed files: bin/mdpipe.js, dist/, package.json, node_modules)
 * is probed *as that user*, so the kernel answers (ACLs and all). When something is blocked, the children
 * run a copy of the installed CLI in a world-readable folder under os.tmpdir(), made once per test file.
 * When the temporary folder itself is out of reach (the test projects live there too), the cases are
 * skipped with a line naming the folder that blocks them (`whyUserCannotRun`). A child that dies in Node's
 * loader anyway is reported as a test setup error naming the blocked folder (`setupFailure`), never as the
 * product's exit code.
 *
 * Why a hand-written copy (`linkTree`) rather than fs.cpSync or `cp -a`: node_modules is 194 MB in 16,000
 * entries; hard links make the copy in 0.4-0.6 s, a byte copy takes 2.9-4.6 s (cp -al against cp -a, three
 * runs each, on the shared 2-core dev machine). `cp -al` would also link files that others cannot read
 * (a clone made under umask 077), and opening such a file up through a link would change the clone's own
 * file: here those are copied, then made readable.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse, sep } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface User {
  uid: number;
  gid: number;
}

/** The user nobody: reliability tests that need permissions to matter run the CLI as this user under root. */
export const NOBODY: User = { uid: 65534, gid: 65534 };

/** How a child starts the CLI: `node bin` from an installed tree at `root`. */
export interface Cli {
  node: string;
  bin: string;
  root: string;
}

/** The CLI installed at `root`, started with this process's node. */
export function ownCli(root: string, node = process.execPath): Cli {
  return { node, bin: join(root, 'bin', 'mdpipe.js'), root };
}

const userName = (user: User): string => (user.uid === NOBODY.uid ? 'nobody' : `uid ${user.uid}`);

/** `/`, `/a`, `/a/b`, ... down to `path` itself. */
export function pathDown(path: string): string[] {
  const { root } = parse(path);
  const parts = path.slice(root.length).split(sep).filter(Boolean);
  return [root, ...parts.map((_, i) => root + parts.slice(0, i + 1).join(sep))];
}

/**
 * One check per argument, in order: `x:PATH` enterable (a folder) or executable, `r:PATH` readable,
 * `tree:PATH` every folder below enterable and listable and every file readable (symbolic links are
 * skipped: their targets are checked where they are). Prints the first path that fails.
 */
const PROBE = `for a; do p=\${a#*:}; case $a in
  x:*) [ -x "$p" ] || { printf '%s\\n' "$p"; exit 1; } ;;
  r:*) [ -r "$p" ] || { printf '%s\\n' "$p"; exit 1; } ;;
  tree:*) b=$(find "$p" \\( -type d \\( ! -readable -o ! -executable \\) -o ! -type d ! -type l ! -readable \\) -print -quit 2>&1)
    [ -z "$b" ] || { printf '%s\\n' "$b"; exit 1; } ;;
esac; done`;

/** The first of `checks` (see PROBE) that fails for `user`, asked of the kernel by a shell run as that user. */
export function firstBlocked(user: User, checks: readonly string[]): string | undefined {
  const r = spawnSync('/bin/sh', ['-c', PROBE, 'probe', ...checks], { ...user, cwd: '/', encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`test setup: cannot run /bin/sh as user ${userName(user)}: ${r.error.message}`);
  return r.status === 0 ? undefined : r.stdout.trim().split('\n')[0] || `${checks.join(' ')} (the probe exited ${r.status ?? r.signal}: ${r.stderr.trim()})`;
}

/** What an installed mdpipe is made of: package.json, its `files` (bin/mdpipe.js, dist/, ...) and node_modules. */
export function installedParts(root: string): string[] {
  const { files = [] } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files?: string[] };
  return ['package.json', ...files.map((f) => f.replace(/\/$/, '')), 'node_modules'].filter((part) => existsSync(join(root, part)));
}

/** The checks (PROBE) that `cli` can be started by another user. */
function cliChecks(cli: Cli): string[] {
  const parts = installedParts(cli.root).map((part) => join(cli.root, part));
  return [
    ...pathDown(dirname(cli.node)).map((p) => `x:${p}`),
    `x:${cli.node}`,
    ...pathDown(cli.root).map((p) => `x:${p}`),
    ...parts.map((p) => (statSync(p).isDirectory() ? `tree:${p}` : `r:${p}`)),
  ];
}

/** What a blocked path is, in a setup message: "<folder> is not enterable by others (mode 700)". */
function blockedWhy(user: User, path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return `user ${userName(user)} cannot reach ${path}`;
  const what = st.isDirectory() ? 'enterable' : st.mode & 0o100 ? 'executable' : 'readable';
  return `${path} is not ${what} by others (mode ${(st.mode & 0o7777).toString(8)})`;
}

/** What `cliFor` answered in this test file (the probe walks node_modules: 0.2 s), by user, root and node. */
const launchers = new Map<string, Cli>();
const copyFolders: string[] = [];

/**
 * How `user` starts the CLI installed at `root`: that one when the user can reach it, else a copy of it
 * under os.tmpdir() (and of the node binary when that is out of reach too), made on the first call of a
 * test file and reused; `removeCliCopies` deletes them. Throws a test setup error when even the copy is
 * out of reach (`whyUserCannotRun` tells before the test).
 */
export function cliFor(user: User, root: string, node = process.execPath): Cli {
  const key = JSON.stringify([user.uid, user.gid, root, node]);
  const known = launchers.get(key);
  if (known) return known;
  const own = ownCli(root, node);
  const blocked = firstBlocked(user, cliChecks(own));
  if (!blocked) {
    launchers.set(key, own);
    return own;
  }

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'mdpipe-cli-copy-'));
  copyFolders.push(dir);
  chmodSync(dir, 0o755);
  for (const part of installedParts(root)) linkTree(join(root, part), join(dir, part));
  const nodeBlocked = firstBlocked(user, [...pathDown(dirname(node)).map((p) => `x:${p}`), `x:${node}`]) !== undefined;
  if (nodeBlocked) linkTree(node, join(dir, 'node'));
  const copy = ownCli(dir, nodeBlocked ? join(dir, 'node') : node);
  const still = firstBlocked(user, cliChecks(copy));
  if (still) throw new Error(`test setup: user ${userName(user)} cannot load the CLI from ${dir} either: ${blockedWhy(user, still)}`);
  launchers.set(key, copy);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`${blockedWhy(user, blocked)}: the CLI runs as user ${userName(user)} from a copy in ${dir}${nodeBlocked ? ' (node too)' : ''}, made in ${seconds} s\n`);
  return copy;
}

/** Deletes the copies `cliFor` made in this test file (and forgets its answers). */
export function removeCliCopies(): void {
  for (const dir of copyFolders.splice(0)) rmSync(dir, { recursive: true, force: true });
  launchers.clear();
}

/**
 * Why the cases run as `user` cannot run here, or undefined when they can: the test projects (and a copy of
 * the CLI, if needed) live under `temp`, so the user must be able to enter every folder down to it.
 */
export function whyUserCannotRun(user: User, temp = tmpdir()): string | undefined {
  const blocked = firstBlocked(user, pathDown(temp).map((p) => `x:${p}`));
  if (!blocked) return undefined;
  return `${blockedWhy(user, blocked)}, on the way to the temporary folder ${temp} where the test projects (and a copy of the CLI) go: set TMPDIR to a folder others can enter`;
}

/**
 * The setup error to report when a child run as `user` died before mdpipe's code ran: Node could not load
 * a file of the CLI (its module loader's "Cannot find module", or EACCES/EPERM on a path of the installed
 * CLI or the node binary). Undefined for anything else (the product's own errors name the project's files).
 */
export function setupFailure(user: User, cli: Cli, stderr: string): string | undefined {
  const path = /Cannot find (?:module|package) '([^']+)'/.exec(stderr)?.[1] ?? /\bE(?:ACCES|PERM)\b[^'\n]*'([^']+)'/.exec(stderr)?.[1];
  const inCli = (p: string): boolean => p === cli.node || p === cli.root || p.startsWith(cli.root + sep);
  if (path === undefined || !inCli(path)) return undefined;
  const checks = pathDown(path).map((p, i, all) => (i < all.length - 1 ? `x:${p}` : `r:${p}`));
  const blocked = firstBlocked(user, checks);
  const why = blocked ? blockedWhy(user, blocked) : `${path} could not be loaded`;
  return `test setup: user ${userName(user)} cannot load the CLI from ${cli.root}: ${why}\n--- the child's stderr ---\n${stderr}`;
}

/**
 * Copies the file or folder `src` to `dst` (which must not exist) as hard links where the file is readable
 * by others and on the same file system, else as a copy made readable by others (modification times kept:
 * bin/mdpipe.js compares the bundle's with the TypeScript build's). Folders are made enterable by others;
 * symbolic links are copied as links.
 */
export function linkTree(src: string, dst: string, withContent = true): void {
  const st = lstatSync(src);
  if (!existsSync(dirname(dst))) {
    linkTree(dirname(src), dirname(dst), false); // bin/ of `bin/mdpipe.js`: the folder alone
  }
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    mkdirSync(dst);
    chmodSync(dst, (st.mode & 0o777) | 0o555);
    if (withContent) for (const name of readdirSync(src)) linkTree(join(src, name), join(dst, name));
  } else {
    if (st.mode & 0o004) {
      try {
        linkSync(src, dst);
        return;
      } catch (e) {
        // Another file system (EXDEV), or links refused (EPERM, EMLINK): a copy does.
        if (!['EXDEV', 'EPERM', 'EMLINK'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    copyFileSync(src, dst);
    chmodSync(dst, (st.mode & 0o777) | 0o444 | (st.mode & 0o100 ? 0o111 : 0));
    utimesSync(dst, st.atime, st.mtime);
  }
}
