/**
 * Publishing: safe output paths, atomic replacement, and cleanup of temporaries left by killed runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputPath, removeStaleTemporaries, writeFileAtomic } from '../../pipeline/publish.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdpipe-publish-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('accepts relative paths inside the output directory only', () => {
  expect(outputPath('/out', 'basic/dataframe.csv')).toEqual({ path: '/out/basic/dataframe.csv' });
  expect(outputPath('/out', 'a/../b.csv')).toEqual({ path: '/out/b.csv' });
  expect(outputPath('/out', '../escape.csv')).toEqual({ problem: 'output file "../escape.csv" would be written outside the output directory' });
  expect(outputPath('/out', 'a/../../escape.csv')).toHaveProperty('problem');
  expect(outputPath('/out', '/etc/passwd')).toEqual({ problem: 'output file "/etc/passwd" must be a relative path' });
});

it('writes through a temporary and leaves only the final file', async () => {
  const path = join(dir, 'deep/er/table.csv');
  await writeFileAtomic(path, Buffer.from('one'));
  await writeFileAtomic(path, Buffer.from('two'));
  expect(readFileSync(path, 'utf8')).toBe('two');
  expect(readdirSync(join(dir, 'deep/er'))).toEqual(['table.csv']);
});

it('removes temporaries of dead processes, keeping those of live ones', async () => {
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const path = join(dir, 'table.csv');
  writeFileSync(path, 'final');
  writeFileSync(`${path}.tmp-${dead}-abcd`, 'torn');
  writeFileSync(`${path}.tmp-${process.pid}-ef01`, 'in progress');
  writeFileSync(join(dir, 'other.csv.tmp-1-0000'), 'not ours');
  await removeStaleTemporaries(path);
  expect(readdirSync(dir).sort()).toEqual(['other.csv.tmp-1-0000', 'table.csv', `table.csv.tmp-${process.pid}-ef01`]);
});
