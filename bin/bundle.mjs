#!/usr/bin/env node
// `npm run build`, second step (after `tsc -b`): bundles the compiled CLI with esbuild into dist/bundle/
// and records a V8 code cache for it. bin/mdpipe.js runs the bundle.
//
// Why: a CLI process otherwise resolves, reads and compiles ~100 of our modules plus zod, pino and
// commander file by file, and compiles every function it calls on first use: a few hundred milliseconds
// that every command pays, a quarter of a no-op run. Measured on the benchmark tree (bench/results):
// the bundle saves ~130 ms of a no-op, the code cache ~100 ms more.
//
//   dist/bundle/main.cjs        the CLI, one CommonJS file (what bin/mdpipe.js compiles, with the cache)
//   dist/bundle/main.cjs.cache  the SHA-256 of main.cjs, then V8's code cache of it, recorded by running a
//                               small build (below)
//
// Why CommonJS: Node 20 can take a code cache only for a script (`vm.Script` `cachedData`), not for an ES
// module (Node 22's module.enableCompileCache is not available). One file rather than ESM chunks loaded
// as each verb needs them: with the cache, loading all of it costs `--help` no more than the chunks did.
//
// Kept external (loaded from node_modules at run time): better-sqlite3 and @parcel/watcher (native addons), and what our
// code loads through createRequire when needed (pino and pino-pretty for log lines, cli-progress for a
// bar, graphology for `graph`), which esbuild does not see.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

// Up to date: nothing the bundle is made from is newer than it (the TypeScript build, which `tsc -b` leaves
// untouched when no source changed; the installed packages; this script), and its code cache is there.
// `npm start`, `npm test` and `npm run bench` build first, so this saves them ~3 s when nothing changed.
const mtime = (path) => statSync(`${root}${path}`, { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime('dist/bundle/main.cjs');
const sources = ['dist/tsconfig.build.tsbuildinfo', 'node_modules/.package-lock.json', 'bin/bundle.mjs'].map(mtime);
if (bundled !== undefined && mtime('dist/bundle/main.cjs.cache') !== undefined && sources.every((t) => t !== undefined && t <= bundled)) {
  process.exit(0);
}

// Written in place of the old bundle by a rename, never removed first: a test or another command may be
// starting mdpipe meanwhile (it then loads the old bundle or the new one, and a cache that is not for the
// bundle it loaded is ignored, see bin/mdpipe.js).
mkdirSync(outdir, { recursive: true });
const { outputFiles } = await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/cli/main.js' },
  outfile: `${outdir}/main.cjs`,
  write: false,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', '@parcel/watcher'],
  // Our modules find package.json and load packages through createRequire relative to import.meta.url;
  // in the bundle that is the bundle's own URL (dist/bundle/ sits where dist/cli/ did, two levels down).
  define: { 'import.meta.url': '__mdpipeModuleUrl' },
  banner: { js: "const __mdpipeModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
});
writeFileSync(`${outdir}/main.cjs.tmp-${process.pid}`, outputFiles[0].contents);
renameSync(`${outdir}/main.cjs.tmp-${process.pid}`, `${outdir}/main.cjs`);
for (const name of readdirSync(outdir)) {
  if (name !== 'main.cjs' && name !== 'main.cjs.cache' && !name.includes('.tmp-')) rmSync(`${outdir}/${name}`, { force: true });
}

// The code cache: V8 keeps the bytecode of every function compiled so far, so it is recorded after a
// process has done what users do: a cold build, a no-op, status. A cache V8 rejects later (another Node
// version, other V8 flags) costs nothing: the bundle is compiled as without one. For the same reason a
// training run that fails does not fail the build (it is reported, and mdpipe runs without the cache).
const work = mkdtempSync(join(tmpdir(), 'mdpipe-code-cache-'));
try {
  const bin = join(root, 'bin/mdpipe.js');
  const env = { ...process.env, MDPIPE_DEBUG: '', NO_COLOR: '1' };
  for (const collection of ['basic', 'noisy']) {
    const synth = spawnSync(process.execPath, [bin, 'synth', '--out', `raw/${collection}`, '--collection', collection, '--axes', 'small', '--config-out', 'mdpipe.config.json', '--no-progress'], { cwd: work, env, encoding: 'utf8' });
    if (synth.status !== 0) throw new Error(`code cache: synth failed:\n${synth.stderr}`);
  }
  const commands = [['run', '--json'], ['run', '--json'], ['status'], ['explain', 'grid:basic']];
  const train = spawnSync(process.execPath, [bin], { cwd: work, env: { ...env, MDPIPE_CODE_CACHE_TRAIN: JSON.stringify(commands) }, encoding: 'utf8' });
  if (train.status !== 0) throw new Error(`code cache: the training run failed:\n${train.stderr}`);
} catch (error) {
  rmSync(`${outdir}/main.cjs.cache`, { force: true });
  process.stderr.write(`bundle: no V8 code cache recorded (mdpipe works without it, starting ~100 ms slower): ${error.message}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
