/**
 * `mdpipe clean [--outputs]`: empties the cache store (the next run rebuilds everything); with
 * `--outputs` also deletes the published files it recorded, unless they were edited since. Does not need
 * the raw tree or the graph, so it works when the raw data has moved.
 */
import { existsSync } from 'node:fs';
import { EXIT } from '../exit-codes.js';
import { bytes, count, displayPath, plural } from '../format.js';
import { openProject, loadProjectConfig } from '../project.js';
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
    if (flags.json) session.terminal.out(`${JSON.stringify({ records: 0, blobs: 0, bytes: 0, outputsRemoved: [], outputsKept: [] })}\n`);
    else session.terminal.out(`no cache at ${displayPath(config.cacheDir)}: nothing to clean\n`);
    return EXIT.ok;
  }
  const engine = await openProject(session, config, { withoutGraph: true });
  try {
    const report = await engine.clean({ outputs: flags.outputs, wait: flags.wait });
    if (flags.json) {
      session.terminal.out(`${JSON.stringify(report)}\n`);
      return EXIT.ok;
    }
    const lines = [
      `removed ${plural(report.records, 'cached result')} and ${plural(report.blobs, 'blob')} (${bytes(report.bytes)}) from ${displayPath(config.cacheDir)}`,
    ];
    if (flags.outputs) {
      lines.push(`removed ${plural(report.outputsRemoved.length, 'output file')} from ${displayPath(config.outDir)}`);
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
