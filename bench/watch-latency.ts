/**
 * Latency of `mdpipe watch` at full size (both collections, 2 x 1,690 checkpoint folders): from the last
 * write of a new checkpoint folder to the updated `<outDir>/basic/dataframe.csv`, and the watcher's
 * start-up (spawn to the first build's JSON line) and resident memory once idle.
 *
 *   npm run build && node dist/bench/watch-latency.js [--dir DIR] [--rounds 5] [--quiet-ms 2000]
 *
 * Each round takes one folder away (and waits for the rebuild that drops its row), then writes it back
 * file by file, and times from the last byte written to the moment dataframe.csv changes. The figure to
 * compare with the quiet period is `latency - quiet-ms`: what the rebuild itself costs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/mdpipe.js', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function mdpipe(args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mdpipe ${args.join(' ')} failed:\n${r.stderr}`);
}

const mtimeNs = (file: string): bigint => statSync(file, { bigint: true, throwIfNoEntry: false })?.mtimeNs ?? 0n;

async function changed(file: string, since: bigint, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (mtimeNs(file) === since) {
    if (performance.now() > deadline) throw new Error(`${file} did not change within ${timeoutMs} ms`);
    await sleep(5);
  }
  return performance.now();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: join(tmpdir(), 'mdpipe-bench-watch') },
      rounds: { type: 'string', default: '5' },
      'quiet-ms': { type: 'string', default: '2000' },
    },
  });
  const dir = values.dir!;
  const quietMs = Number(values['quiet-ms']);
  if (!existsSync(join(dir, 'mdpipe.config.json'))) {
    mkdirSync(dir, { recursive: true });
    mdpipe(['synth', '--out', 'raw/basic', '--config-out', 'mdpipe.config.json', '--no-progress'], dir);
    mdpipe(['synth', '--out', 'raw/noisy', '--collection', 'noisy', '--config-out', 'mdpipe.config.json', '--no-progress'], dir);
  }
  mdpipe(['run', '--json'], dir); // warm cache: the watcher's first build is a no-op
  const folder = join(dir, 'raw/basic/different_knobs_subset_05/bs_64/normal/ResNet18_w8/metrics');
  const aside = join(dir, 'aside');
  rmSync(aside, { recursive: true, force: true });
  const csv = join(dir, 'out/basic/dataframe.csv');

  const spawned = performance.now();
  const watch = spawn(process.execPath, [BIN, 'watch', '--json', '--quiet-ms', String(quietMs)], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  watch.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  while (!out.includes('\n')) await sleep(5);
  const startMs = performance.now() - spawned;
  await sleep(1000);
  const idleRss = rssMb(watch.pid!);

  const latencies: number[] = [];
  const removals: number[] = [];
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      let before = mtimeNs(csv);
      const removed = performance.now();
      renameSync(folder, aside);
      removals.push((await changed(csv, before)) - removed);
      before = mtimeNs(csv);
      // Back, file by file, as a training job writes them.
      mkdirSync(folder, { recursive: true });
      for (const name of readdirSync(aside).sort()) {
        writeFileSync(join(folder, name), readFileSync(join(aside, name)));
        await sleep(20);
      }
      const lastWrite = performance.now();
      latencies.push((await changed(csv, before)) - lastWrite);
      rmSync(aside, { recursive: true, force: true });
      await sleep(500);
    }
  } finally {
    watch.kill('SIGINT');
    await new Promise((resolve) => watch.on('close', resolve));
  }
  const line = (label: string, xs: number[]): string =>
    `${label}: median ${median(xs).toFixed(0)} ms (quiet period ${quietMs} ms + ${(median(xs) - quietMs).toFixed(0)} ms); all: ${xs.map((x) => x.toFixed(0)).join(', ')}`;
  console.log(`tree: ${dir} (2 x 1,690 checkpoint folders)`);
  console.log(`watch start-up to the first build's line (a no-op build): ${startMs.toFixed(0)} ms; RSS once idle: ${idleRss.toFixed(0)} MB`);
  console.log(line('new folder: last write -> dataframe.csv updated', latencies));
  console.log(line('folder removed -> dataframe.csv updated', removals));
  console.log(`builds seen: ${out.trim().split('\n').length}`);
  writeFileSync(join(dir, 'last-watch-latency.txt'), out);
}

await main();
