#!/usr/bin/env node
// The `mdpipe` command: a thin shim over the compiled CLI (built by `npm run build`, which `npm ci`,
// `npm start` and `npm test` run). Kept tiny: start-up time is part of every command.
//
// It runs the bundle (dist/bundle/main.cjs, see bin/bundle.mjs), compiled with the V8 code cache recorded
// beside it, when the bundle is at least as new as the last TypeScript build; else the plain tsc output
// (dist/cli/main.js), so that a `tsc -b` alone after an edit never leaves the command running yesterday's
// bundle. With --debug it runs the tsc output too, with source maps on, so that the stack of an internal
// error names the TypeScript files and lines (Node maps a script compiled through `vm` by no source map).
import { hash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const dist = new URL('../dist/', import.meta.url);
const mtime = (path) => statSync(new URL(path, dist), { throwIfNoEntry: false })?.mtimeMs;
const bundled = mtime('bundle/main.cjs');
const compiled = mtime('cli/main.js');
if (compiled === undefined && bundled === undefined) {
  process.stderr.write('mdpipe: the compiled CLI (dist/cli/main.js) is missing: run npm run build\n');
  process.exit(2);
}
const args = process.argv.slice(2);
const debug = args.includes('--debug') || process.env.MDPIPE_DEBUG === '1';
if (debug) process.setSourceMapsEnabled(true);
const fresh = bundled !== undefined && !(bundled < (mtime('tsconfig.build.tsbuildinfo') ?? 0));
const useBundle = fresh && !(debug && compiled !== undefined);

// The bundle's own import() fails under a code cache made in another process (util/import-esm.ts): it
// imports the ES-module packages it loads on demand (plotting, graph drawing) through this one.
globalThis.__mdpipeImport = (specifier) => import(specifier);
const { main, bundle } = useBundle ? loadBundle(fileURLToPath(new URL('bundle/main.cjs', dist))) : await import(new URL('cli/main.js', dist).href);
const training = process.env.MDPIPE_CODE_CACHE_TRAIN;
if (training && bundle) {
  // `npm run build` records the code cache: run these commands here, then save what V8 compiled.
  for (const argv of JSON.parse(training)) await main(argv);
  const file = `${bundle.filename}.cache`;
  writeFileSync(`${file}.tmp`, Buffer.concat([bundle.digest, bundle.script.createCachedData()]));
  renameSync(`${file}.tmp`, file);
} else process.exitCode = await main(args);

/**
 * Compiles and runs the CommonJS bundle as `require` would, with its code cache when the cache was made
 * from this very text. The cache starts with the SHA-256 of the bundle it was recorded from: V8 itself
 * checks only the length of the source, and would run stale bytecode for an edit that kept the length.
 */
function loadBundle(filename) {
  const source = readFileSync(filename, 'utf8');
  const digest = hash('sha256', source, 'buffer');
  let cachedData;
  try {
    const cache = readFileSync(`${filename}.cache`);
    if (cache.subarray(0, digest.length).equals(digest)) cachedData = cache.subarray(digest.length);
  } catch {
    // no cache: compiled from source
  }
  const script = new vm.Script(Module.wrap(source), {
    filename,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = new Module(filename);
  module.filename = filename;
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(filename), module, filename, dirname(filename));
  return { main: module.exports.main, bundle: { script, filename, digest } };
}
