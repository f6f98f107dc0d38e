/**
 * `mdpipe watch` through bin/mdpipe.js, as a user runs it: a file that stays broken, its fix, a concurrent
 * `run`, Ctrl-C. (Folders landing file by file while it runs: watch.slow.test.ts, `npm run test:faults`.)
 * No assertion on timing beyond generous timeouts (the machine may be loaded).
 */
import fs from 'node:fs';
import path from 'node:path';
import { basicFolder, expectExit, mdpipe, smallProject, spawnMdpipe } from './support.js';
import { lines, stop, until } from './watch-support.js';

describe('mdpipe watch', () => {
  test('a file that stays broken fails once quiet, fixing it rebuilds only its folder; a concurrent run is refused naming the watcher', async () => {
    const dir = await smallProject('watch-broken');
    const w = spawnMdpipe(['watch', '--quiet-ms', '300', '--json'], { cwd: dir });
    try {
      await until(w, 'the first build', () => lines(w).length >= 1);

      const refused = await mdpipe(['run'], { cwd: dir });
      expectExit(refused, 1);
      expect(refused.stderr).toContain(`(mdpipe watch --quiet-ms 300 --json)`);
      expect(refused.stderr).toContain(`process ${w.child.pid}`);

      // Cut short, and left so: a failure once the quiet period has passed, not "waiting" for ever.
      const file = path.join(basicFolder(dir, 64, 8, '05'), 'loss_acc.pkl');
      const good = fs.readFileSync(file);
      fs.writeFileSync(file, good.subarray(0, Math.floor(good.length / 2)));
      await until(w, 'the failure', () => lines(w).some((l) => l.failed > 0));
      const failedLine = lines(w).find((l) => l.failed > 0)!;
      expect(failedLine.tasks.filter((t) => t.status === 'failed').map((t) => t.id)).toEqual(['parse:basic/bs64-w8-d05']);
      await until(w, 'the error on stderr', () => w.output.stderr.includes(file));
      expect(w.output.stderr).toMatch(/truncated/);

      const before = lines(w).length;
      // Fixed with a valid file of other content (another folder's): with the original bytes back, the
      // folder's last good result, which a failure never deletes, would be valid again and nothing would run.
      fs.writeFileSync(file, fs.readFileSync(path.join(basicFolder(dir, 16, 2, '05'), 'loss_acc.pkl')));
      await until(w, 'the rebuild after the fix', () => lines(w).slice(before).some((l) => l.ok && l.executed > 0));
      const fixed = lines(w).slice(before).find((l) => l.executed > 0)!;
      const parsed = fixed.tasks.filter((t) => t.status === 'executed' && t.id.startsWith('parse:')).map((t) => t.id);
      expect(parsed).toEqual(['parse:basic/bs64-w8-d05']);
      expect(fixed.tasks.some((t) => t.id.endsWith(':noisy'))).toBe(false);
    } finally {
      expect([0, 130]).toContain(await stop(w));
    }
  }, 90_000);
});
