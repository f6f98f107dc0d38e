/**
 * Which checkpoint folder a changed path belongs to, from the collection's layout: a path at or below a
 * checkpoint folder's depth belongs to that folder (if the layout parses it); a path above it that
 * matches the layout's leading segments (a new `different_knobs_subset_09`, a deleted `bs_16`) changes
 * the tree's structure; anything else (the outputs, if they sit under a raw root; stray files) is no
 * business of the watcher.
 */
import path from 'node:path';
import type { RawCollection } from '../../config/load.js';

/** A watched raw root. */
export interface WatchedRoot {
  collection: string;
  root: string;
  /** The checkpoint folder's path under `root`, matched segment by segment (placeholders are digits). */
  segments: RegExp[];
  /** The full folder path (relative, `/`-separated) parses as a checkpoint. */
  fits(relFolder: string): boolean;
}

/** What a changed path means. */
export type PathMeaning =
  /** In (or is) a checkpoint folder. `folder` is absolute. */
  | { kind: 'folder'; collection: string; folder: string }
  /** Above the checkpoint folders, on the layout: folders may have appeared or gone. */
  | { kind: 'structure'; collection: string; path: string }
  | null;

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function watchedRoot(c: RawCollection): WatchedRoot {
  const segments = c.layout.template
    .split('/')
    .map((segment) => new RegExp(`^${segment.split(/\{[^}]*\}/).map(escapeRegex).join('[0-9]+')}$`));
  return { collection: c.name, root: c.root, segments, fits: (rel) => c.layout.parse(rel) !== null };
}

/** Classifies an absolute path reported by the file watcher. */
export function meaningOf(roots: readonly WatchedRoot[], absPath: string): PathMeaning {
  for (const r of roots) {
    const rel = path.relative(r.root, absPath);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const parts = rel.split(path.sep);
    const depth = r.segments.length;
    for (let i = 0; i < Math.min(parts.length, depth); i++) if (!r.segments[i].test(parts[i])) return null;
    if (parts.length < depth) return { kind: 'structure', collection: r.collection, path: absPath };
    const relFolder = parts.slice(0, depth).join('/');
    if (!r.fits(relFolder)) return null;
    return { kind: 'folder', collection: r.collection, folder: path.join(r.root, ...parts.slice(0, depth)) };
  }
  return null;
}
