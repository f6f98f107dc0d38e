/**
 * `mdpipe clean [--outputs]`: empties the cache store (the next run rebuilds everything); with
 * `--outputs` also deletes every file mdpipe wrote to the output folder: the published files the cache
 * recorded (unless they were edited since), the run pages (index.html, last-run.json, graph.svg,
 * graph.dot), temporaries a killed run left of either, and the folders that leaves empty. A file of the
 * user's own there stays. Does not need the raw tree or the graph, so it works when the raw data has moved.
 */
import { existsSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { removeStaleTemporaries } from '../../pipeline/index.js';
import { EXIT } from '../exit-codes.js';
import { bytes, count, displayPath, plural } from '../format.js';
import { openProject, loadProjectConfig } from '../project.js';
import { removeRunPages } from '../run-pages.js';
import type { Session } from '../session.js';

export interface CleanFlags {
  outputs?: boolean;
  wait?: boolean;
  json?: boolean;
}

export async function cleanCommand(session: Session, flags: CleanFlags): Promise<number> {
  const config = loadProjectConfig(session, { allowMissingInputs: true });
  // Nothing to empty, and opening the store would create an empty .mdpipe/ here.
  if (!existsSync(config.cacheDir)) {
    const pagesRemoved = flags.outputs ? await removeRunPages(config.outDir) : [];
    if (flags.json) session.terminal.out(`${JSON.stringify({ records: 0, blobs: 0, bytes: 0, outputsRemoved: [], outputsKept: [], pagesRemoved })}\n`);
    else session.terminal.out(`no cache at ${displayPath(config.cacheDir)}: nothing to clean${pagesRemoved.length > 0 ? `; removed the run pages from ${displayPath(config.outDir)}` : ''}\n`);
    return EXIT.ok;
  }
  const engine = await openProject(session, config, { withoutGraph: true });
  try {
    const cleaned = await engine.clean({ outputs: flags.outputs, wait: flags.wait });
    const report = { ...cleaned, pagesRemoved: flags.outputs ? await removeOutputLeftovers(config.outDir, cleaned.outputsRemoved) : [] };
    if (flags.json) {
      session.terminal.out(`${JSON.stringify(report)}\n`);
      return EXIT.ok;
    }
    const lines = [
      `removed ${plural(report.records, 'cached result')} and ${plural(report.blobs, 'blob')} (${bytes(report.bytes)}) from ${displayPath(config.cacheDir)}`,
    ];
    if (flags.outputs) {
      const pages = report.pagesRemoved.length > 0 ? ` and the run pages (${report.pagesRemoved.map((p) => path.basename(p)).join(', ')})` : '';
      lines.push(`removed ${plural(report.outputsRemoved.length, 'output file')}${pages} from ${displayPath(config.outDir)}`);
      if (report.outputsKept.length > 0) {
        lines.push(`kept ${count(report.outputsKept.length)} edited since they were written (delete them by hand if you want them gone):`);
        for (const file of report.outputsKept) lines.push(`  ${displayPath(file)}`);
      }
    }
    lines.push('the next `mdpipe run` rebuilds everything');
    session.terminal.out(`${lines.join('\n')}\n`);
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}

/**
 * What the engine's clean does not know of: the CLI's run pages, temporaries of removed outputs left by a
 * killed run, and the folders (a collection's, its plots/) that removing leaves empty; never `outDir`
 * itself, which may be the user's. Returns the run pages removed.
 */
async function removeOutputLeftovers(outDir: string, removed: readonly string[]): Promise<string[]> {
  for (const file of removed) await removeStaleTemporaries(file);
  const pages = await removeRunPages(outDir);
  const root = path.resolve(outDir);
  const folders = new Set<string>();
  for (const file of removed) {
    for (let dir = path.dirname(path.resolve(file)); dir.startsWith(root + path.sep); dir = path.dirname(dir)) folders.add(dir);
  }
  // Deepest first, so a collection folder is tried after its plots/.
  for (const dir of [...folders].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(dir);
    } catch {
      // Not empty (a user's file, an edited output kept) or already gone: it stays.
    }
  }
  return pages;
}
