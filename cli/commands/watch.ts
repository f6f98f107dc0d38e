/** `mdpipe watch [TARGET...]`: build, then rebuild what changed as raw files land, until Ctrl-C. */
import { loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';
import { watchProject, type WatchFlags } from '../watch/loop.js';

export async function watchCommand(session: Session, targets: string[], flags: WatchFlags): Promise<number> {
  const config = loadProjectConfig(session);
  return watchProject(session, config, targets, flags);
}
