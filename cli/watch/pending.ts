/**
 * What changed since the last build, and when: one entry per checkpoint folder (or structural path) with
 * the time of its latest change. An entry is due once it has been quiet for `quietMs`; a build takes the
 * due entries; a change noted during the build starts a new entry, for the next one.
 *
 * Times are wall-clock milliseconds (`Date.now()`), so that they compare with files' mtime and ctime.
 */
import type { PathMeaning } from './folders.js';

export interface PendingEntry {
  kind: 'folder' | 'structure';
  collection: string;
  /** The checkpoint folder (absolute), or the structural path. */
  path: string;
  /** Latest change seen, wall-clock ms. */
  changedAt: number;
}

export class PendingChanges {
  readonly #entries = new Map<string, PendingEntry>();

  constructor(readonly quietMs: number) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Records a change (the later of `at` and what is known already). */
  note(meaning: NonNullable<PathMeaning>, at: number): void {
    const key = meaning.kind === 'folder' ? meaning.folder : meaning.path;
    const entry = this.#entries.get(key);
    if (entry) entry.changedAt = Math.max(entry.changedAt, at);
    else this.#entries.set(key, { kind: meaning.kind, collection: meaning.collection, path: key, changedAt: at });
  }

  /** The latest change recorded for a folder, if it is pending. */
  changedAt(folder: string): number | undefined {
    return this.#entries.get(folder)?.changedAt;
  }

  /** Milliseconds until the next entry is due (0 if one is), or undefined when nothing is pending. */
  untilDue(now: number): number | undefined {
    let first: number | undefined;
    for (const e of this.#entries.values()) first = Math.min(first ?? Infinity, e.changedAt + this.quietMs);
    return first === undefined ? undefined : Math.max(0, first - now);
  }

  /** Removes and returns the entries quiet for `quietMs` at `now` (a change noted later starts a new one). */
  take(now: number): PendingEntry[] {
    const due = [...this.#entries.values()].filter((e) => now - e.changedAt >= this.quietMs);
    for (const e of due) this.#entries.delete(e.path);
    return due;
  }

  /** Puts entries back as changed at `at` (a build that could not run: retried once quiet again). */
  restore(entries: readonly PendingEntry[], at: number): void {
    for (const e of entries) this.note(e.kind === 'folder' ? { kind: 'folder', collection: e.collection, folder: e.path } : { kind: 'structure', collection: e.collection, path: e.path }, at);
  }
}
