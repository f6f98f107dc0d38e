/**
 * Issue 14 point 6, mdpipe from anywhere: what `npm pack` (and so `npm install -g`) ships holds the
 * build the bin needs, and the bin runs through a symlink on PATH (what `npm install -g` and `npm link`
 * make) from any folder, suggesting `mdpipe ...` commands there. The full `npm install -g --prefix`
 * builds better-sqlite3 from source where no prebuilt binary downloads (minutes): it is checked by hand
 * (README, "Installing mdpipe"), not here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, expectExit, mdpipe, ROOT, tempDir } from './support.js';

test('the packed package holds bin/mdpipe.js, the bundle and the compiled CLI, and no tests', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  for (const needed of ['bin/mdpipe.js', 'dist/bundle/main.cjs', 'dist/bundle/main.cjs.cache', 'dist/cli/main.js', 'dist/tsconfig.build.tsbuildinfo', 'package.json']) {
    expect(files).toContain(needed);
  }
  expect(files.filter((f) => f.startsWith('test/') || f.startsWith('dist/test/'))).toEqual([]);
});

test('through a symlink on PATH, from another folder: --help works and synth suggests `mdpipe run`', async () => {
  const prefix = tempDir('path');
  fs.mkdirSync(path.join(prefix, 'bin'));
  fs.symlinkSync(BIN, path.join(prefix, 'bin', 'mdpipe'));
  const env = { PATH: `${path.join(prefix, 'bin')}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
  const elsewhere = tempDir('elsewhere');
  const help = execFileSync('mdpipe', ['--help'], { cwd: elsewhere, env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(help).toContain('Usage: mdpipe');
  const synth = await mdpipe(['synth', '--axes', 'small', '--out', 'raw', '--config-out', 'mdpipe.config.json'], { cwd: elsewhere, env });
  expectExit(synth, 0);
  // mdpipe() runs `node BIN`, whose real path is the one the PATH entry points at.
  expect(synth.stdout).toContain('build it with:\n  mdpipe run\n');
});
