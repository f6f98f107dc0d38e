/**
 * Atomic file writes, for every layer that writes a file a reader may open at any moment (the engine's
 * published outputs, the CLI's run pages): the bytes go to a temporary in the same directory, which is then
 * renamed over the target, so a reader or a killed process never sees half a file. No fsync: after a
 * crash either the old or the new file is there.
 *
 * The temporary is `<name>.tmp-<pid>-<hex>` (see {@link TEMPORARY_INFIX}): the pid lets a later run tell
 * a dead writer's leftover from a live one's work in progress (pipeline/publish.ts removeStaleTemporaries),
 * the random part keeps two writes of one path in one process apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What follows a file's name in the name of its temporaries. */
export const TEMPORARY_INFIX = '.tmp-';

/**
 * Writes `data` to `path` atomically, creating parent directories. On failure the temporary is removed
 * and the error is rethrown as it came (callers name the file in their own error types).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}${TEMPORARY_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
