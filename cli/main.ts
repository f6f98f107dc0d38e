/**
 * The `mdpipe` command line: parses the arguments, runs one verb, and turns what happened into an exit
 * code (cli/exit-codes.ts): 0 done, 1 a task failed or the cache is locked, 2 usage or configuration
 * error, 130 interrupted.
 *
 * Kept lean on purpose: this module loads commander and the program's definition only; each verb's module
 * (and with it the config schema, the engine, the file readers) is imported when that verb runs.
 */
import { CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { buildProgram, type ProgramState } from './program.js';

/**
 * Runs `mdpipe` with `argv` (the arguments after the program name) and returns the exit code.
 * Never throws: every error becomes a message on stderr and a code.
 */
export async function main(argv: readonly string[]): Promise<number> {
  ignoreClosedPipes();
  const state: ProgramState = { code: EXIT.ok };
  const debug = argv.includes('--debug') || process.env.MDPIPE_DEBUG === '1';
  try {
    await buildProgram(argv, state).parseAsync([...argv], { from: 'user' });
    return state.code;
  } catch (error) {
    // commander has printed its message (with a did-you-mean); --help and --version are not errors.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { reportError } = await import('./report-error.js');
    return reportError(error, { debug });
  }
}

/**
 * `mdpipe graph --format json | head` closes stdout early: the write fails with EPIPE. That is the reader's
 * choice, not an error; the command finishes (a run still stores its results) and exits with its code.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}
