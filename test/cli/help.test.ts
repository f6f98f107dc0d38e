/**
 * What a new user meets first: every verb's --help (exit 0, with examples), and the mistakes they make
 * (a misspelt verb or flag, a bad value, no verb at all): a suggestion and exit code 2, never a stack trace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BIN, expectExit, mdpipe, tempDir } from './support.js';

const VERBS = [['demo'], ['run'], ['watch'], ['status'], ['explain'], ['graph'], ['synth'], ['clean'], ['cache'], ['cache', 'info'], ['cache', 'gc']];

describe('mdpipe --help', () => {
  const cwd = tempDir('help');

  test('the program help lists every verb, the exit codes and examples', async () => {
    const ran = await mdpipe(['--help'], { cwd });
    expectExit(ran, 0);
    for (const verb of ['demo', 'run', 'watch', 'status', 'explain', 'graph', 'synth', 'clean', 'cache']) expect(ran.stdout).toMatch(new RegExp(`^  ${verb} `, 'm'));
    expect(ran.stdout).toContain('Examples:');
    expect(ran.stdout).toMatch(/Exit codes:[\s\S]*130/);
  });

  test.each(VERBS.map((verb) => [verb.join(' ')]))('mdpipe %s --help exits 0 and shows examples', async (verb) => {
    const args = verb.split(' ');
    const ran = await mdpipe([...args, '--help'], { cwd });
    expectExit(ran, 0);
    expect(ran.stdout).toContain(`Usage: mdpipe ${args.join(' ')}`);
    expect(ran.stdout).toMatch(/Examples:\n {2}\$ mdpipe /);
    expect(ran.stderr).toBe('');
  });

  test('`mdpipe help run` is the same as `mdpipe run --help`', async () => {
    const [a, b] = await Promise.all([mdpipe(['help', 'run'], { cwd }), mdpipe(['run', '--help'], { cwd })]);
    expectExit(a, 0);
    expect(a.stdout).toBe(b.stdout);
  });

  test('--version prints the package version', async () => {
    const ran = await mdpipe(['--version'], { cwd });
    expectExit(ran, 0);
    const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(BIN), '../package.json'), 'utf8'));
    expect(ran.stdout.trim()).toBe(pkg.version);
  });
});

describe('usage errors exit 2 with a suggestion', () => {
  const cwd = tempDir('usage');

  test('an unknown verb suggests the closest one', async () => {
    const ran = await mdpipe(['rnu'], { cwd });
    expectExit(ran, 2);
    expect(ran.stderr).toContain("unknown command 'rnu'");
    expect(ran.stderr).toContain('Did you mean run?');
    expect(ran.stdout).toBe('');
  });

  test('an unknown flag suggests the closest one', async () => {
    const ran = await mdpipe(['run', '--forse'], { cwd });
    expectExit(ran, 2);
    expect(ran.stderr).toContain("unknown option '--forse'");
    expect(ran.stderr).toContain('Did you mean --force?');
  });

  test('an unknown sub-verb of cache suggests the closest one', async () => {
    const ran = await mdpipe(['cache', 'gcc'], { cwd });
    expectExit(ran, 2);
    expect(ran.stderr).toContain('Did you mean gc?');
  });

  test('a bad option value says what works', async () => {
    const jobs = await mdpipe(['run', '--jobs', '0'], { cwd });
    expectExit(jobs, 2);
    expect(jobs.stderr).toContain('expected a positive whole number');
    const size = await mdpipe(['cache', 'gc', '--max-size', 'lots'], { cwd });
    expectExit(size, 2);
    expect(size.stderr).toContain('expected a size such as 500MB');
    const format = await mdpipe(['graph', '--format', 'png'], { cwd });
    expectExit(format, 2);
    expect(format.stderr).toMatch(/Allowed choices are text, dot, mermaid, json/);
  });

  test('no verb shows the help on stderr and exits 2', async () => {
    const ran = await mdpipe([], { cwd });
    expectExit(ran, 2);
    expect(ran.stderr).toContain('Usage: mdpipe');
  });

  test('synth without --out names the missing option', async () => {
    const ran = await mdpipe(['synth'], { cwd });
    expectExit(ran, 2);
    expect(ran.stderr).toContain("required option '-o, --out <dir>' not specified");
  });
});

describe('the bin shim', () => {
  test('without a build it says to run npm run build, and exits 2', async () => {
    // A copy of the shim with no dist/ beside it, as in a clone before `npm run build`.
    const dir = tempDir('nobuild');
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.copyFileSync(BIN, path.join(dir, 'bin/mdpipe.js'));
    fs.writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}');
    const { spawnSync } = await import('node:child_process');
    const ran = spawnSync(process.execPath, [path.join(dir, 'bin/mdpipe.js'), 'run'], { encoding: 'utf8' });
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain('run npm run build');
  });
});
