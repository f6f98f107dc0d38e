/**
 * The one atomic writer (util/atomic-write.ts) the engine's outputs, the run pages and `synth
 * --config-out` share: the final file only, parents made, the temporary gone on failure, the error as it came.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { writeFileAtomic as publishFile } from '../../pipeline/publish.js';
import { OutputWriteError } from '../../pipeline/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdpipe-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('text or bytes through a temporary, parents made, only the final file left', async () => {
  await writeFileAtomic(join(dir, 'a/b/index.html'), '<p>one</p>');
  await writeFileAtomic(join(dir, 'a/b/index.html'), Buffer.from('<p>two</p>'));
  expect(readFileSync(join(dir, 'a/b/index.html'), 'utf8')).toBe('<p>two</p>');
  expect(readdirSync(join(dir, 'a/b'))).toEqual(['index.html']);
});

test('a failed rename leaves no temporary and rethrows the cause; publish wraps it naming the file', async () => {
  // The target is a folder with a file in it: the temporary is written, the rename over it fails.
  const target = join(dir, 'index.html');
  mkdirSync(target);
  writeFileSync(join(target, 'keep'), 'x');
  const error = await writeFileAtomic(target, 'page').catch((e: NodeJS.ErrnoException) => e);
  expect(['EISDIR', 'ENOTEMPTY', 'EEXIST']).toContain((error as NodeJS.ErrnoException).code);
  await expect(publishFile(target, Buffer.from('page'))).rejects.toThrow(OutputWriteError);
  await expect(publishFile(target, Buffer.from('page'))).rejects.toThrow(target);
  expect(readdirSync(dir)).toEqual(['index.html']);
});
