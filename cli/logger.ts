/**
 * The logger factory: pino, human-readable (pino-pretty, in this process) on a terminal, JSON lines
 * otherwise. Logs go to stderr by default so stdout stays free for `--json` output.
 *
 * pino is loaded when a logger is made (synchronously, through its CommonJS entry), not when the CLI
 * is imported: the CLI makes one only when a line is actually logged, and most scripted runs log none.
 */
import { createRequire } from 'node:module';
import type { Logger, LevelWithSilent } from 'pino';
import type pinoModule from 'pino';
import type pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** `pretty` for people, `json` for machines. Default: `pretty` when the destination is a terminal. */
  format?: 'pretty' | 'json';
  level?: LevelWithSilent;
  /** A file descriptor or a writable stream; default stderr (fd 2). */
  destination?: number | NodeJS.WritableStream;
}

/** Creates the logger the CLI and the engine share. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 2;
  const isTty =
    typeof destination === 'number'
      ? destination === 2
        ? process.stderr.isTTY === true
        : destination === 1 && process.stdout.isTTY === true
      : (destination as { isTTY?: boolean }).isTTY === true;
  const format = options.format ?? (isTty ? 'pretty' : 'json');
  const level = options.level ?? 'info';
  const { pino } = createRequire(import.meta.url)('pino') as typeof pinoModule;
  if (format === 'pretty') {
    // Loaded only for a terminal (synchronously, through its CommonJS entry): 25 ms of start-up that JSON
    // logging, and so every scripted or benchmarked run, need not pay.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    const stream = pretty({
      destination: destination as number | NodeJS.WritableStream as never,
      colorize: isTty,
      sync: true,
      ignore: 'pid,hostname',
      translateTime: 'SYS:HH:MM:ss',
    });
    return pino({ level, base: undefined }, stream);
  }
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino({ level, base: undefined }, stream);
}
