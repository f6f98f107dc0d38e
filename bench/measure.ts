/**
 * Runs one command as a child process and measures what a user feels: wall time from spawn to exit (taken
 * in this process), the child's peak resident set size and its CPU time, user plus system (`/usr/bin/time
 * -f '%M %U %S'` when it exists, else what a small wrapper reads from `process.resourceUsage()` in the child
 * at exit). CPU time is the steadier figure on a machine shared with other work.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  ms: number;
  /** Peak RSS in MB. */
  rssMb: number;
  /** CPU time (user + system) in ms; NaN when it could not be read. */
  cpuMs: number;
  stdout: string;
  stderr: string;
  status: number | null;
}

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);
/** Preloaded into a node child when GNU time is absent: writes maxRSS (kB) to MDPIPE_BENCH_RSS at exit. */
const RSS_HOOK =
  'data:text/javascript,import{writeFileSync}from"node:fs";' +
  'process.on("exit",()=>{const u=process.resourceUsage();' +
  'writeFileSync(process.env.MDPIPE_BENCH_RSS,`${u.maxRSS} ${u.userCPUTime/1e6} ${u.systemCPUTime/1e6}`)})';

/** How peak RSS is measured, for the results file. */
export const RSS_METHOD = hasGnuTime ? "/usr/bin/time -f '%M %U %S'" : 'process.resourceUsage() at exit';

/**
 * Spawns `node ARGS` (or another program) and waits for it.
 * @param command the program (`process.execPath` for node)
 */
export function measure(command: string, args: readonly string[], options: { cwd?: string } = {}): Measurement {
  const scratch = mkdtempSync(join(tmpdir(), 'mdpipe-bench-m-'));
  const rssFile = join(scratch, 'rss');
  try {
    const useTime = hasGnuTime;
    const isNode = command === process.execPath;
    const [program, argv] = useTime
      ? [GNU_TIME, ['-f', '%M %U %S', '-o', rssFile, command, ...args]]
      : [command, isNode ? ['--import', RSS_HOOK, ...args] : [...args]];
    const started = performance.now();
    const child = spawnSync(program, argv, {
      cwd: options.cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, MDPIPE_BENCH_RSS: rssFile, NO_COLOR: '1' },
    });
    const ms = performance.now() - started;
    let [rssKb, user, system] = [NaN, NaN, NaN];
    try {
      const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
      [rssKb, user, system] = lines[lines.length - 1].split(' ').map(Number);
    } catch {
      // no figures (the wrapper could not run): reported as n/a
    }
    return { ms, rssMb: rssKb / 1024, cpuMs: (user + system) * 1000, stdout: child.stdout ?? '', stderr: child.stderr ?? '', status: child.status };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
