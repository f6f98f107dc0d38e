/**
 * Publishing output files: atomic writes (temporary name in the same directory, then rename), so a reader
 * or a killed run never sees a half-written file; removal of the temporaries a killed run left; and path
 * checks so a task cannot write outside the output directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { processIsAlive } from '../util/process.js';
import { OutputWriteError } from './errors.js';

/** The absolute path of a published file, or an error message if `relPath` is not a safe relative path. */
export function outputPath(outDir: string, relPath: string): { path: string } | { problem: string } {
  if (relPath === '' || isAbsolute(relPath)) return { problem: `output file "${relPath}" must be a relative path` };
  const normalized = normalize(relPath);
  if (normalized === '..' || normalized.startsWith(`..${sep}`) || normalized.split(sep).includes('..')) {
    return { problem: `output file "${relPath}" would be written outside the output directory` };
  }
  return { path: join(outDir, normalized) };
}

/**
 * Writes `bytes` to `path` atomically, creating parent directories. No fsync: a crash leaves either file.
 * @throws OutputWriteError naming `path` (a full disk's ENOSPC names no file by itself)
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new OutputWriteError(path, error);
  }
}

/**
 * Removes temporaries of `path` (`<name>.tmp-<pid>-<hex>`) left by a process that was killed mid-write.
 * Called when a task publishes that path again, so a SIGKILL leaves no lasting debris in the output tree.
 */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !processIsAlive(pid)) await rm(join(dirname(path), name), { force: true });
  }
}
