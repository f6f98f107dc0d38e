/**
 * How the person started mdpipe, so the commands we suggest (`synth`, `demo`) work where they are:
 * `mdpipe` when the command on PATH is this one (a global install or `npm link`), `npx mdpipe` under npx,
 * else `node <path to bin/mdpipe.js>` as they typed it (`npm start` runs `node bin/mdpipe.js`).
 */
import fs from 'node:fs';
import path from 'node:path';

export function invocation(argv1 = process.argv[1] ?? '', env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.npm_command === 'exec') return 'npx mdpipe';
  const real = (p: string): string | undefined => {
    try {
      return fs.realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const me = real(argv1);
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && me !== undefined && real(path.join(dir, 'mdpipe')) === me) return 'mdpipe';
  }
  const rel = path.relative(cwd, argv1);
  const shown = rel.startsWith('..') || path.isAbsolute(rel) ? argv1 : rel;
  return `node ${/\s/.test(shown) ? JSON.stringify(shown) : shown}`;
}
