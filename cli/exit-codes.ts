/**
 * The exit codes of `mdpipe`, in one place so the help text, the README and the code agree.
 */
export const EXIT = {
  /** Everything asked for was done. */
  ok: 0,
  /** A task failed, the cache is locked by another run, or the cache store failed. */
  failed: 1,
  /** Usage or configuration error: nothing was run. */
  usage: 2,
  /** Interrupted by Ctrl-C (128 + SIGINT): finished tasks are kept. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code paragraph shown in `--help`. */
export const EXIT_CODES_HELP = `Exit codes:
  0    done
  1    a task failed (the summary names it and its file), another run holds the cache lock
       (the message names it; --wait queues behind it), or the cache store failed
  2    usage or configuration error (nothing was run)
  130  interrupted by Ctrl-C (finished tasks are kept: run again to continue)
  143  watch stopped by SIGTERM during a build (finished tasks are kept)`;
