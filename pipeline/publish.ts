/**
 * Publishing output files: atomic writes (temporary name in the same directory, then rename), so a reader
 * or a killed run never sees a half-written file; removal of the temporaries a killed run left; and path
 * checks so a task cannot write outside the output directory.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { TEMPORARY_INFIX, writeFileAtomic as writeAtomically } from '../util/atomic-write.js';
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
 * Writes `bytes` to `path` atomically (util/atomic-write.ts), creating parent directories.
 * @throws OutputWriteError naming `path` (a full disk's ENOSPC names no file by itself)
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeAtomically(path, bytes);
  } catch (error) {
    throw new OutputWriteError(path, error);
  }
}

/**
 * Removes temporaries of `path` (`<name>.tmp-<pid>-<hex>`) left by a process that was killed mid-write.
 * Called when a task publishes that path again, so a SIGKILL leaves no lasting debris in the output tree.
 */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const prefix = `${basename(path)}${TEMPORARY_INFIX}`;
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
