/**
 * What every verb starts from: the global options, the terminal, and (for verbs that use the engine)
 * the logger (cli/logger.ts): plain human lines unless `--log-format json` (or MDPIPE_LOG_FORMAT=json)
 * asks for pino's JSON lines; always on stderr, so stdout carries only results.
 */
import type { LogFormat, Logger } from './logger.js';
import { Terminal } from './terminal.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options every verb accepts (declared on the program; commander merges them into each verb's). */
export interface GlobalOptions {
  config?: string;
  logFormat?: LogFormat;
  logLevel?: LogLevel;
  quiet?: boolean;
  debug?: boolean;
}

export interface Session {
  readonly globals: GlobalOptions;
  readonly terminal: Terminal;
  /** `mdpipe <argv>`, recorded in the lock so a refused run can name who holds it. */
  readonly command: string;
}

export function createSession(globals: GlobalOptions, argv: readonly string[]): Session {
  return { globals, terminal: new Terminal(), command: ['mdpipe', ...argv].join(' ') };
}

/** The log level: `--log-level`, else debug with `--debug`, warn with `--quiet`, info otherwise. */
export function logLevel(globals: GlobalOptions): LogLevel {
  if (globals.logLevel) return globals.logLevel;
  if (globals.debug) return 'debug';
  return globals.quiet ? 'warn' : 'info';
}

/** What the CLI logs through: pino's level methods (`logger.info(fields, message)` or `logger.info(message)`). */
export type SessionLogger = Pick<Logger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'isLevelEnabled'>;

const LEVEL_VALUES: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

/**
 * The session's logger, writing to its stderr stream. The pino logger behind it is made on the first line
 * at an enabled level: a run that logs nothing (`--json --quiet`, a clean scripted run) never loads pino,
 * and the thousands of per-task debug calls of a run cost a comparison each.
 */
export async function createSessionLogger(session: Session): Promise<SessionLogger> {
  const { createLogger } = await import('./logger.js');
  const level = logLevel(session.globals);
  let real: Logger | undefined;
  const isLevelEnabled = (name: string): boolean => name in LEVEL_VALUES && LEVEL_VALUES[name as LogLevel] >= LEVEL_VALUES[level];
  const method = (name: keyof SessionLogger) => {
    if (!isLevelEnabled(name)) return () => {};
    return (...args: unknown[]): void => {
      real ??= createLogger({ format: session.globals.logFormat, level, destination: session.terminal.logStream });
      (real[name] as (...a: unknown[]) => void)(...args);
    };
  };
  return { trace: method('trace'), debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error'), isLevelEnabled } as SessionLogger;
}
