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
    const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : ' Run `mdpipe status` to list tasks.';
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
