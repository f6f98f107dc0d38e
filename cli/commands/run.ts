/** `mdpipe run [TARGET...]`: builds the targets (default everything) and their stale upstream. */
import { loadProjectConfig } from '../project.js';
import { runPipeline, type RunFlags } from '../run-pipeline.js';
import type { Session } from '../session.js';

export async function runCommand(session: Session, targets: string[], flags: RunFlags): Promise<number> {
  const config = loadProjectConfig(session);
  return (await runPipeline(session, config, targets, flags)).code;
}
