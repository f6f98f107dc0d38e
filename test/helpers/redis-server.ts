/**
 * A real `redis-server` (Debian's package) for tests: started on a free loopback port (127.0.0.1 only)
 * with a password (`--requirepass`), a temporary `--dir`, and no persistence; stopped (SIGTERM) or killed
 * (SIGKILL, for fault tests) by the test. Tests that need one skip with one plain line when
 * `redis-server` is not installed (`.ci/run` installs it).
 *
 * Never anything but loopback: the server binds 127.0.0.1, and clients are given that address.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a `redis-server` binary is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `describe` when redis-server is installed, else `describe.skip` after one visible line saying why. */
export function describeWithRedis(name: string, body: () => void): void {
  if (hasRedisServer()) {
    describe(name, body);
    return;
  }
  process.stderr.write(`skipped "${name}": redis-server is not installed (apt-get install -y redis-server)\n`);
  describe.skip(name, body);
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly password: string;
  /** `redis://:password@127.0.0.1:port/db`. */
  url(db?: number): string;
  /** The process (for its pid). */
  readonly process: ChildProcess;
  /** SIGTERM, wait for exit, remove the temporary dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill(): Promise<void>;
}

/** Starts redis-server on a free loopback port and waits until it accepts connections. */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'mdpipe-redis-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
    if (await waitForPort(port, child, 5000)) {
      let stopped = false;
      const finish = async (signal: NodeJS.Signals): Promise<void> => {
        if (!stopped) {
          stopped = true;
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
          rmSync(dir, { recursive: true, force: true });
        }
      };
      return {
        host: '127.0.0.1',
        port,
        password,
        url: (db = 0) => `redis://:${password}@127.0.0.1:${port}/${db}`,
        process: child,
        stop: () => finish('SIGTERM'),
        kill: () => finish('SIGKILL'),
      };
    }
    child.kill('SIGKILL');
    await exited;
    // Another process took the port between our probe and the server's bind: try another one.
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on 127.0.0.1 (4 attempts)`);
    }
  }
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (await canConnect(port)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
    socket.connect(port, '127.0.0.1');
  });
}
