/**
 * Typed errors of the engine. Each carries a stable `code`, a `category` the CLI maps to an exit code
 * (`usage`/`config` → 2, `task` → 1), and a message saying what was wrong, where, and the fix.
 */

export type ErrorCategory = 'usage' | 'config' | 'task' | 'internal';

export class PipelineError extends Error {
  constructor(
    readonly code: string,
    readonly category: ErrorCategory,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The task graph has a cycle; `cycle` lists it, first id repeated at the end. */
export class CycleError extends PipelineError {
  constructor(readonly cycle: string[]) {
    super('cycle', 'config', `the task graph has a cycle (each task feeds the next): ${cycle.join(' -> ')}. Remove one of these dependencies.`);
  }
}

/** A task depends on an id (or id glob) that names no task. */
export class UnknownDependencyError extends PipelineError {
  constructor(
    readonly task: string,
    readonly dependency: string,
    hint: string,
  ) {
    super(
      'unknown-dependency',
      'config',
      `task ${task} depends on ${dependency}, which ${dependency.includes('*') ? 'matches no task' : 'is not a task'}. ${hint}`,
    );
  }
}

/** Two declarations (or a declaration and a discovered partition) have the same id. */
export class DuplicateTaskError extends PipelineError {
  constructor(readonly id: string, sources: [string, string]) {
    super('duplicate-task', 'config', `two tasks have the id ${id} (${sources[0]} and ${sources[1]}). Task ids must be unique.`);
  }
}

/** A task declaration is malformed (bad id, non-JSON params, duplicate file names…). */
export class InvalidTaskError extends PipelineError {
  constructor(readonly id: string, problem: string) {
    super('invalid-task', 'config', `task ${id}: ${problem}`);
  }
}

/** A target on the command line matches no task. */
export class UnknownTargetError extends PipelineError {
  constructor(
    readonly target: string,
    readonly suggestions: string[],
  ) {
    const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : ' Run `mdpipe status --all` to list tasks.';
    super('unknown-target', 'usage', `no task matches the target "${target}".${hint}`);
  }
}

/** Another process holds the project lock. */
export class LockedError extends PipelineError {
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host} (${holder.command}), started ${holder.startedAt}`
      : 'another process (its holder file is missing)';
    super(
      'locked',
      'usage',
      `the cache at ${lockPath} is in use by ${who}. Wait for it to finish, or pass --wait to queue behind it.`,
    );
  }
}

/** Who holds the project lock, as written next to it. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

/** A required input file does not exist. */
export class MissingInputError extends PipelineError {
  constructor(
    readonly task: string,
    readonly file: string,
    name: string,
  ) {
    super(
      'missing-input',
      'task',
      `task ${task}: input ${name} is missing (${file}). Restore the file, or declare the input optional if its absence is legitimate.`,
    );
  }
}

/** An input file is bigger than its task accepts (`FileInput.maxBytes`); it was not read. */
export class InputTooLargeError extends PipelineError {
  constructor(
    readonly file: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      'input-too-large',
      'task',
      `input ${file} is ${size} bytes (${gib(size)}), over the limit of ${limit} bytes (${gib(limit)}) for this input; it was not read. ` +
        'It is not the file the task expects: replace it with the right file, or remove it.',
    );
  }
}

const gib = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(bytes >= 1024 ** 3 ? 1 : 3)} GiB`;

/**
 * What a person can do about a file-system error, by its errno code; `undefined` when there is nothing
 * more specific to say than the system's own message.
 */
export function fileSystemFix(code: string | undefined): string | undefined {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space on that disk (or point cacheDir/outDir at another one) and run again: what was already built is kept';
    case 'EACCES':
    case 'EPERM':
      return 'give the user running mdpipe permission to it (chmod or chown), or run mdpipe as its owner';
    case 'EROFS':
      return 'it is on a read-only file system: point cacheDir/outDir at a writable folder';
    case 'ELOOP':
      return 'a symbolic link on that path leads back to itself: point it at the real file or folder, or remove it';
    case 'EIO':
      return 'the disk reported an I/O error: check the disk, or copy the file again';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files: raise the limit (ulimit -n) or lower --jobs';
    case 'ENOTDIR':
    case 'EISDIR':
      return 'something other than a regular file (a folder, a named pipe, a device) stands where a file is expected, or a file where a folder is: check the path';
    default:
      return undefined;
  }
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause));
const errnoOf = (cause: unknown): string | undefined => (cause as NodeJS.ErrnoException | undefined)?.code;

/** The cache directory, or the lock in it, cannot be created or written. Nothing was run or changed. */
export class CacheDirectoryError extends PipelineError {
  constructor(
    readonly cacheDir: string,
    cause: unknown,
  ) {
    const fix = fileSystemFix(errnoOf(cause)) ?? 'check that this user can create and write the cache directory';
    super('cache-directory', 'task', `cannot use the cache directory ${cacheDir}: ${errorText(cause)}\n  fix: ${fix}`, { cause });
  }
}

/** A published output file could not be written; the previous version, if any, is left as it was. */
export class OutputWriteError extends PipelineError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    const fix = fileSystemFix(errnoOf(cause)) ?? 'check that this user can write the output folder';
    super('output-write', 'task', `could not write the output ${file} (${errorText(cause)}); its previous version, if any, is unchanged\n  fix: ${fix}`, { cause });
  }
}

/** An input changed while its task ran, so the result may not match the hashed content. */
export class InputChangedError extends PipelineError {
  constructor(
    readonly task: string,
    readonly file: string,
  ) {
    super(
      'input-changed',
      'task',
      `task ${task}: input ${file} changed while the task ran; the result was not stored. Run again once the file is stable.`,
    );
  }
}

/** A run function returned something the engine cannot store. */
export class InvalidResultError extends PipelineError {
  constructor(readonly task: string, problem: string) {
    super('invalid-result', 'task', `task ${task} returned an invalid result: ${problem}`);
  }
}

/** `explain` or another lookup named a task that does not exist. */
export class UnknownTaskError extends PipelineError {
  constructor(readonly id: string, suggestions: string[]) {
    super(
      'unknown-task',
      'usage',
      `there is no task ${id}.${suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : ''}`,
    );
  }
}
