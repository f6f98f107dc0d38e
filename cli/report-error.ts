/**
 * Turns an error that reached the top of a verb into one message on stderr and an exit code.
 *
 * A person's mistake (configuration, usage, a bad file given on the command line) prints its message,
 * which already names the file, the problem and the fix, and exits 2. A lock held by another run or a
 * failing cache store exits 1 with its message. Anything else is a bug: one line asking for a report,
 * the stack only with `--debug` or `MDPIPE_DEBUG=1`. Never a bare stack trace for a user error.
 *
 * The error classes are imported here, on the error path, so that a successful `--help` does not pay for
 * loading the engine.
 */
import { EXIT } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export interface ReportOptions {
  debug: boolean;
  write?: (text: string) => void;
}

/** Prints `error` for a person and returns the exit code. */
export async function reportError(error: unknown, options: ReportOptions): Promise<number> {
  const write = options.write ?? ((text: string) => void process.stderr.write(text));
  const [{ ConfigError }, { SynthError }, pipeline, { FormatError }, dataset] = await Promise.all([
    import('../config/errors.js'),
    import('../synth/errors.js'),
    import('../pipeline/index.js'),
    import('../formats/errors.js'),
    import('../dataset/errors.js'),
  ]);
  const stack = (): string => (options.debug && error instanceof Error && error.stack ? `${error.stack}\n` : '');
  const say = (message: string, code: number): number => {
    write(`error: ${message.trimEnd()}\n${stack()}`);
    return code;
  };
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof SynthError) return say(error.message, EXIT.usage);
  // A file named on the command line (a grid for `synth`, say) that is not what it should be.
  if (error instanceof FormatError || error instanceof dataset.MetricsStructureError || error instanceof dataset.DatasetInputError) {
    return say(error.message, EXIT.usage);
  }
  if (error instanceof pipeline.LockedError) return say(error.message, EXIT.failed);
  if (error instanceof pipeline.PipelineError) {
    if (error.category === 'usage' || error.category === 'config') return say(error.message, EXIT.usage);
    if (error.category === 'task') return say(error.message, EXIT.failed);
  }
  if (error instanceof pipeline.CacheStoreError) return say(error.message, EXIT.failed);
  if (isFileSystemError(error)) {
    return say(`${error.message}\n  fix: check that the path exists and that you may read and write it`, EXIT.failed);
  }
  const message = error instanceof Error ? error.message : String(error);
  write(
    `internal error: ${message.split('\n')[0]} (please report this, with the output of the same command run with --debug)\n` +
      (options.debug && error instanceof Error && error.stack ? `${error.stack}\n` : ''),
  );
  return EXIT.failed;
}

/** EACCES, ENOSPC and the like from node:fs: the environment, not a bug; the message names the path. */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && /^E[A-Z]+$/.test(code) && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
