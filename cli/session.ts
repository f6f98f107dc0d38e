/**
 * What every verb starts from: the global options, the terminal, and (for verbs that use the engine)
 * the logger. The logger is pino through the engine's factory: human-readable on a terminal, JSON lines
 * otherwise or with `--log-format json`; always on stderr, so stdout carries only results.
 */
import type { Logger } from '../pipeline/index.js';
import { Terminal } from './terminal.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options every verb accepts (declared on the program; commander merges them into each verb's). */
export interface GlobalOptions {
  config?: string;
  logFormat?: 'pretty' | 'json';
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

/** The pino logger writing to the session's stderr stream. */
export async function createSessionLogger(session: Session): Promise<Logger> {
  const { createLogger } = await import('../pipeline/index.js');
  return createLogger({ format: session.globals.logFormat, level: logLevel(session.globals), destination: session.terminal.logStream });
}
