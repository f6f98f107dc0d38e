/**
 * `mdpipe explain TASK`: why a task would re-run, field by field (input file with its old and new
 * digest, parameter, code version, upstream output), and the stored result's provenance.
 */
import { EXIT } from '../exit-codes.js';
import { explainText } from '../explain-text.js';
import { openProject, loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';
import type { SharedCacheFlags } from '../shared-cache.js';

export async function explainCommand(session: Session, id: string, flags: { json?: boolean } & SharedCacheFlags): Promise<number> {
  const config = loadProjectConfig(session);
  const engine = await openProject(session, config, { shared: { mode: 'read', flags } });
  try {
    const explanation = await engine.explain(id);
    session.terminal.out(flags.json ? `${JSON.stringify(explanation)}\n` : explainText(explanation));
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
