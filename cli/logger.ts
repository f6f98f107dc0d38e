/**
 * The logger factory. For people (the default, on a terminal or not): plain lines, `warn: message`, with
 * no timestamps and no field dump, written without pino (a CI log or a file gets the same lines a
 * terminal does, not JSON mixed with the summary). At debug level a line adds the fields its message
 * does not already say. For machines: `--log-format json` (or MDPIPE_LOG_FORMAT=json), pino's JSON lines;
 * `pretty` is pino-pretty (timestamps, fields on their own lines). Logs go to stderr by default so stdout
 * stays free for `--json` output.
 *
 * pino is loaded when a logger is made (synchronously, through its CommonJS entry), not when the CLI
 * is imported: the CLI makes one only when a line is actually logged, and most scripted runs log none.
 */
import { createRequire } from 'node:module';
import type { Logger, LevelWithSilent } from 'pino';
import type pinoModule from 'pino';
import type pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export const LOG_FORMATS = ['plain', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** `plain` (default) for people, `json` for machines, `pretty` for pino-pretty's layout. */
  format?: LogFormat;
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
  const format = options.format ?? 'plain';
  const level = options.level ?? 'info';
  if (format === 'plain') return plainLogger(level, destination) as unknown as Logger;
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

const LEVEL_VALUES = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
type PlainLevel = Exclude<keyof typeof LEVEL_VALUES, 'silent'>;

/**
 * One plain line per call: `message` for info, `level: message` otherwise. Fields are left out at info and
 * above (the message says what matters); at debug and trace a line adds, in brackets, the fields whose
 * value its message does not already contain, so a line never repeats itself.
 */
function plainLogger(level: LevelWithSilent, destination: number | NodeJS.WritableStream): Record<PlainLevel, (...args: unknown[]) => void> {
  const write =
    typeof destination === 'number'
      ? (text: string) => void (destination === 1 ? process.stdout : process.stderr).write(text)
      : (text: string) => void destination.write(text);
  const details = LEVEL_VALUES[level] <= LEVEL_VALUES.debug;
  const method = (name: PlainLevel) => {
    if (LEVEL_VALUES[name] < LEVEL_VALUES[level]) return () => {};
    return (first: unknown, second?: unknown): void => {
      const fields = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
      const message = String(fields ? (second ?? '') : first);
      let extra = '';
      if (details && fields) {
        const parts: string[] = [];
        for (const [key, value] of Object.entries(fields)) {
          if (value === undefined) continue;
          const text = typeof value === 'string' ? value : JSON.stringify(value);
          if (text !== undefined && !message.includes(text)) parts.push(`${key}=${text}`);
        }
        if (parts.length > 0) extra = ` [${parts.join(' ')}]`;
      }
      write(`${name === 'info' ? '' : `${name}: `}${message}${extra}\n`);
    };
  };
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error'), fatal: method('fatal') };
}
