/**
 * Discovery's glob for fixed-depth patterns: walks the tree one pattern segment at a time with synchronous
 * `readdir`, matching each segment with picomatch, and never reads below the pattern's depth.
 *
 * Why not fast-glob for these (it remains the fallback for `**` and braces that span segments): on the
 * benchmark tree (2 x 1,690 checkpoint folders, five levels) a fresh process spent 450-650 ms in fast-glob
 * (250-290 ms with `fg.sync`) and 50 ms importing it, against 130 ms for this walk: fast-glob's
 * asynchronous walker costs a queue hop and a filter chain per entry, and a CLI pays for it before JIT
 * warm-up. A literal segment (`normal`, `metrics`) costs no directory read at all: the walk descends into
 * it directly, and a final literal segment is one `stat`.
 *
 * Semantics kept from the fast-glob call it replaces: matches are paths relative to `cwd` with `/`
 * separators; names starting with a dot match only a segment that spells the dot; symbolic links to
 * directories are followed; `onlyDirectories` or only files.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import picomatch from 'picomatch';

export interface GlobOptions {
  cwd: string;
  onlyDirectories: boolean;
}

/** Pattern segments, or `undefined` when the pattern needs a recursive glob (`**`, a group spanning `/`). */
export function fixedDepthSegments(pattern: string): string[] | undefined {
  if (pattern.includes('**') || pattern.startsWith('/')) return undefined;
  const segments = pattern.split('/');
  for (const segment of segments) {
    if (segment === '' || !balanced(segment)) return undefined;
  }
  return segments;
}

/** True if every `{`, `(` and `[` of a segment closes within it (else a group hides a `/`). */
function balanced(segment: string): boolean {
  let depth = 0;
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === '\\') i++;
    else if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

type Segment = { literal: string } | { match: (name: string) => boolean };

function compile(segment: string): Segment {
  const scan = picomatch.scan(segment);
  if (!scan.isGlob) return { literal: segment.replace(/\\(.)/g, '$1') };
  return { match: picomatch(segment, { dot: false }) };
}

/**
 * Kind of a path that may be a symbolic link. A path that cannot be resolved (a symbolic link loop) or
 * statted (a parent without search permission) counts as a match: its task then fails reading it, naming
 * the path and the problem, while every other partition is built. Throwing here would fail the whole
 * discovery; dropping it would lose the folder without a word.
 */
function statKind(path: string): 'directory' | 'file' | 'other' | 'unreadable' | undefined {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? undefined : stats.isDirectory() ? 'directory' : stats.isFile() ? 'file' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EACCES' || code === 'EPERM') return 'unreadable';
    throw error;
  }
}

function isDirectory(path: string, entry?: Dirent): boolean {
  if (entry && !entry.isSymbolicLink()) return entry.isDirectory();
  const kind = statKind(path);
  return kind === 'directory' || kind === 'unreadable';
}

function isFile(path: string, entry?: Dirent): boolean {
  if (entry && !entry.isSymbolicLink()) return entry.isFile();
  const kind = statKind(path);
  return kind === 'file' || kind === 'unreadable';
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') return [];
    throw error;
  }
}

/**
 * Every path under `cwd` matching the segments (from {@link fixedDepthSegments}), unsorted.
 * Unreadable or vanished folders are skipped, as fast-glob does.
 */
export function walkGlob(segments: readonly string[], options: GlobOptions): string[] {
  const compiled = segments.map(compile);
  const last = compiled.length - 1;
  const out: string[] = [];
  const wanted = (path: string, entry?: Dirent): boolean => (options.onlyDirectories ? isDirectory(path, entry) : isFile(path, entry));

  const visit = (dir: string, rel: string, depth: number): void => {
    const segment = compiled[depth];
    if ('literal' in segment) {
      const path = `${dir}/${segment.literal}`;
      const relPath = rel === '' ? segment.literal : `${rel}/${segment.literal}`;
      if (depth === last) {
        if (wanted(path)) out.push(relPath);
      } else visit(path, relPath, depth + 1);
      return;
    }
    for (const entry of entries(dir)) {
      if (!segment.match(entry.name)) continue;
      const path = `${dir}/${entry.name}`;
      const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (depth === last) {
        if (wanted(path, entry)) out.push(relPath);
      } else if (isDirectory(path, entry)) visit(path, relPath, depth + 1);
    }
  };
  visit(options.cwd.replace(/\/+$/, '') || '/', '', 0);
  return out;
}
