/**
 * The project lock: refusal naming the holder, waiting, and recovery of a lock left by a dead process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LockedError } from '../../pipeline/errors.js';
import { acquireProjectLock, readLockHolder } from '../../pipeline/lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mdpipe-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that certainly belongs to no process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

it('records the holder and refuses a second taker, naming it', async () => {
  const lock = await acquireProjectLock(dir, { command: 'mdpipe run (first)' });
  expect(readLockHolder(dir)).toMatchObject({ pid: process.pid, host: hostname(), command: 'mdpipe run (first)' });
  const refusal = await acquireProjectLock(dir, { command: 'second' }).catch((e: unknown) => e);
  expect(refusal).toBeInstanceOf(LockedError);
  expect((refusal as LockedError).holder?.command).toBe('mdpipe run (first)');
  expect((refusal as Error).message).toMatch(/in use by process \d+ on .+ \(mdpipe run \(first\)\), started /);
  await lock.release();
  expect(readLockHolder(dir)).toBeUndefined();
  const again = await acquireProjectLock(dir);
  await again.release();
});

it('waits for the holder with wait: true', async () => {
  const first = await acquireProjectLock(dir);
  let acquired = false;
  const second = acquireProjectLock(dir, { wait: true, pollMs: 10 }).then((lock) => ((acquired = true), lock));
  await new Promise((r) => setTimeout(r, 60));
  expect(acquired).toBe(false);
  await first.release();
  const lock = await second;
  expect(acquired).toBe(true);
  await lock.release();
});

it('takes over at once a lock whose holder process is gone', async () => {
  mkdirSync(join(dir, 'mdpipe.lock'));
  const pid = deadPid();
  writeFileSync(join(dir, 'mdpipe.lock.holder.json'), JSON.stringify({ pid, host: hostname(), command: 'killed run', startedAt: new Date().toISOString() }));
  const lock = await acquireProjectLock(dir);
  expect(lock.holder.pid).toBe(process.pid);
  expect(readLockHolder(dir)?.pid).toBe(process.pid);
  await lock.release();
  expect(existsSync(join(dir, 'mdpipe.lock'))).toBe(false);
});

it('does not take over a lock held from another host', async () => {
  mkdirSync(join(dir, 'mdpipe.lock'));
  writeFileSync(join(dir, 'mdpipe.lock.holder.json'), JSON.stringify({ pid: deadPid(), host: 'elsewhere', command: 'remote run', startedAt: '' }));
  await expect(acquireProjectLock(dir)).rejects.toThrow(/on elsewhere \(remote run\)/);
});

describe('a lock without a holder file', () => {
  const claim = (pid: number, host = hostname()): void =>
    writeFileSync(join(dir, `mdpipe.lock.claim-${pid}.json`), JSON.stringify({ pid, host, command: 'a taker', startedAt: new Date().toISOString() }));

  it('is taken over when its taker died before naming itself (its claim names a dead process)', async () => {
    mkdirSync(join(dir, 'mdpipe.lock'));
    const dead = deadPid();
    claim(dead);
    const lock = await acquireProjectLock(dir);
    expect(readLockHolder(dir)?.pid).toBe(process.pid);
    expect(existsSync(join(dir, `mdpipe.lock.claim-${dead}.json`))).toBe(false); // the dead claim is cleared
    expect(readdirSync(dir).filter((f) => f.includes('claim'))).toEqual([]); // and ours became the holder file
    await lock.release();
  });

  it('is taken over when nothing claims it (a holder killed while giving it back)', async () => {
    mkdirSync(join(dir, 'mdpipe.lock'));
    const lock = await acquireProjectLock(dir);
    expect(readLockHolder(dir)?.pid).toBe(process.pid);
    await lock.release();
  });

  it('is not taken over while a live process claims it, nor when a claim comes from another host', async () => {
    mkdirSync(join(dir, 'mdpipe.lock'));
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      claim(sleeper.pid!);
      await expect(acquireProjectLock(dir)).rejects.toThrow(LockedError);
      rmSync(join(dir, `mdpipe.lock.claim-${sleeper.pid}.json`));
      claim(deadPid(), 'elsewhere');
      await expect(acquireProjectLock(dir)).rejects.toThrow(LockedError);
    } finally {
      sleeper.kill();
    }
  });
});
