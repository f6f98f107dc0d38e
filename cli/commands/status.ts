/**
 * `mdpipe status [TARGET...]`: every task fresh or stale, with the reason, aggregated by group
 * (`parse:basic/*  1,688 fresh · 2 stale`, the stale ones listed). Reads only: it takes no lock and can
 * run while a build does.
 */
import { EXIT } from '../exit-codes.js';
import { count, displayPath } from '../format.js';
import { openProject, loadProjectConfig } from '../project.js';
import type { Session } from '../session.js';
import type { SharedCacheFlags } from '../shared-cache.js';
import { groupOf, renderTaskTable } from '../task-table.js';

export interface StatusFlags extends SharedCacheFlags {
  json?: boolean;
  all?: boolean;
}

export async function statusCommand(session: Session, targets: string[], flags: StatusFlags): Promise<number> {
  const config = loadProjectConfig(session);
  const engine = await openProject(session, config, { shared: { mode: 'read', flags } });
  try {
    const tasks = await engine.status({ targets });
    const fresh = tasks.filter((t) => t.state === 'fresh').length;
    const stale = tasks.length - fresh;
    if (flags.json) {
      const groups = new Map<string, { group: string; fresh: number; stale: number }>();
      for (const t of tasks) {
        const key = groupOf(t.id);
        const g = groups.get(key) ?? { group: key, fresh: 0, stale: 0 };
        g[t.state]++;
        groups.set(key, g);
      }
      session.terminal.out(`${JSON.stringify({ fresh, stale, groups: [...groups.values()], tasks })}\n`);
      return EXIT.ok;
    }
    const source = config.file ? displayPath(config.file) : 'the built-in default configuration';
    const restores = tasks.filter((t) => t.state === 'fresh' && t.reason?.includes('would restore'));
    const allFresh = tasks.length === 1 ? 'the 1 task is fresh' : `all ${count(tasks.length)} tasks are fresh`;
    const head =
      stale === 0
        ? restores.length > 0
          ? `${allFresh} (${source}), but published outputs differ from the cache; \`mdpipe run\` restores them:\n` +
            restores.map((t) => `  ${t.id}: ${t.reason!.replace(/^up to date; /, '')}\n`).join('')
          : `${allFresh} (${source}); \`mdpipe run\` would do nothing\n`
        : `${count(fresh)} fresh · ${count(stale)} stale of ${count(tasks.length)} tasks (${source}); \`mdpipe run\` rebuilds the stale ones\n`;
    const rows = tasks.map((t) => ({ id: t.id, state: t.state, reason: t.reason }));
    session.terminal.out(head + renderTaskTable(rows, ['fresh', 'stale'], { all: flags.all, moreHint: '--all lists every task' }));
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
