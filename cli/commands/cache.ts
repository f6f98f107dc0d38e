/**
 * `mdpipe cache info` (what the store holds and what it takes on disk) and `mdpipe cache gc` (drop what
 * the current graph no longer uses, then apply size and age limits, least recently used first).
 * `info` needs neither the raw tree nor the graph; `gc` needs the graph, for the set of tasks to keep.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EXIT } from '../exit-codes.js';
import { bytes, count, displayPath, plural } from '../format.js';
import { openProject, loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';
import { chooseSharedCache } from '../shared-cache.js';

export async function cacheInfoCommand(session: Session, flags: { json?: boolean }): Promise<number> {
  const config = loadProjectConfig(session, { allowMissingInputs: true });
  // Looking must not create: opening the store would make an empty .mdpipe/ where nothing was built.
  if (!fs.existsSync(config.cacheDir)) {
    if (flags.json) session.terminal.out(`${JSON.stringify({ cacheDir: config.cacheDir, records: 0, blobs: 0, bytes: 0, bytesOnDisk: 0 })}\n`);
    else session.terminal.out(`no cache at ${displayPath(config.cacheDir)}: nothing was built here yet (\`mdpipe run\` makes it)\n`);
    return EXIT.ok;
  }
  const engine = await openProject(session, config, { withoutGraph: true });
  try {
    const info = await engine.cacheInfo();
    const onDisk = folderBytes(config.cacheDir);
    // Named (without its password), not counted: `cache` is about this machine's store.
    const chosen = chooseSharedCache(config, {}, 'read');
    const sharedCache = chosen && (await import('../../cache/shared/redis-url.js')).parseRedisUrl(chosen.url, chosen.source).display;
    if (flags.json) {
      session.terminal.out(`${JSON.stringify({ cacheDir: config.cacheDir, ...info, bytesOnDisk: onDisk, ...(sharedCache ? { sharedCache } : {}) })}\n`);
      return EXIT.ok;
    }
    session.terminal.out(
      `cache: ${displayPath(config.cacheDir)}\n` +
        `  ${plural(info.records, 'cached task result')}, ${plural(info.blobs, 'blob')} holding ${bytes(info.bytes)}\n` +
        `  on disk: ${bytes(onDisk)} (the SQLite store with its write-ahead log)\n` +
        (sharedCache ? `  shared cache: ${sharedCache} (used by run, status and explain; not counted or cleaned here)\n` : '') +
        '`mdpipe cache gc` drops what the current tasks no longer use; `mdpipe clean` empties it\n',
    );
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

export interface GcFlags {
  maxSize?: number;
  maxAge?: number;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
}

export async function cacheGcCommand(session: Session, flags: GcFlags): Promise<number> {
  const config = loadProjectConfig(session);
  const engine = await openProject(session, config);
  try {
    const report = await engine.gc({ maxBytes: flags.maxSize, maxAgeMs: flags.maxAge, dryRun: flags.dryRun, wait: flags.wait });
    if (flags.json) {
      session.terminal.out(`${JSON.stringify(report)}\n`);
      return EXIT.ok;
    }
    const verb = flags.dryRun ? 'would delete' : 'deleted';
    session.terminal.out(
      `${verb} ${plural(report.recordsDeleted, 'cached result')} and ${plural(report.blobsDeleted, 'blob')}, freeing ${bytes(report.bytesFreed)}` +
        `${report.memosDeleted > 0 ? ` (and ${count(report.memosDeleted)} stale file-hash memos)` : ''}\n` +
        `kept ${plural(report.recordsKept, 'cached result')} and ${plural(report.blobsKept, 'blob')} (${bytes(report.bytesKept)})` +
        `${flags.dryRun ? '; nothing was deleted (--dry-run)' : ''}\n`,
    );
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/** Bytes of the files directly in `dir` (the store is a few files; a missing folder is 0). */
function folderBytes(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const stats = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (stats?.isFile()) total += stats.size;
  }
  return total;
}
