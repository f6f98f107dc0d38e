/**
 * The engine's public API, for `tasks/` and `cli/`. Everything else in `pipeline/` is internal.
 */
export type { FileInput, Json, OffloadedResult, PartitionedKind, PipelineDefinition, PreviousResult, TaskContext, TaskDeclaration, TaskResult } from './task.js';
export { readFileWithStat } from './file-state.js';
export { removeStaleTemporaries } from './publish.js';
export { openEngine } from './engine.js';
export type { CleanOptions, CleanReport, Engine, EngineOptions, Explanation, RunOptions, TaskState } from './engine.js';
export type {
  DryRunResult,
  EngineEvent,
  EngineListener,
  PlannedAction,
  PlannedTask,
  RunResult,
  RunStats,
  RunSummary,
  TaskOutcome,
  TaskStatus,
  TaskSummary,
} from './events.js';
export { NOT_STARTED_AFTER_FAILURE } from './events.js';
export type { SkippedMatch, SkippedSummary } from './discover.js';
export type { Change } from './fingerprint.js';
export { GRAPH_FORMATS, type GraphFormat } from './graph-render.js';
export { acquireProjectLock, type LockOptions, type ProjectLock } from './lock.js';
export { logEvent, type EventLevels, type Logger } from './logger.js';
export {
  CacheDirectoryError,
  CycleError,
  DuplicateTaskError,
  InputChangedError,
  InputTooLargeError,
  InvalidResultError,
  InvalidTaskError,
  LockedError,
  MissingInputError,
  OutputWriteError,
  PipelineError,
  UnknownDependencyError,
  UnknownTargetError,
  UnknownTaskError,
  fileSystemFix,
  type ErrorCategory,
  type LockHolder,
} from './errors.js';
export type { TaskGraph } from './task-graph.js';
// The store contract and its errors; which store is used is the caller's choice (cli/project.ts), so no
// store implementation is exported from here.
export type { CacheStore } from '../cache/store.js';
export type { GcOptions, GcReport } from '../cache/gc.js';
export { CacheStoreError, StoreWriteError, StoreCapabilityError, StoreReadError, StoreOpenError } from '../cache/errors.js';
export { foldedId } from './graph-fold.js';
