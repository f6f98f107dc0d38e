/**
 * Whether a folder matched by a collection's layout is a checkpoint at all: it is when it holds at least
 * one of the six metric files. A folder with none is what a layout one level too short matches (the
 * files sit in `.../metrics` below it): building on it would give an all-NaN dataset and report success.
 *
 * Discovery asks this of one folder per collection (one readdir: ~0.1 ms, on every run including a no-op);
 * only when that folder holds none does it look further, folder by folder, and it stops at the first that
 * holds one. So a good tree pays one readdir per collection, and only a broken or odd one pays more.
 */
import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { METRIC_FILES } from './metrics.js';

const METRIC_FILE_SET: ReadonlySet<string> = new Set(METRIC_FILES);

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** True when `dir` directly holds at least one of the six metric files. */
export function holdsMetricFiles(dir: string): boolean {
  return entries(dir).some((e) => METRIC_FILE_SET.has(e.name));
}

/** The first folder of `dirs` that holds a metric file, or undefined when none does. */
export function firstCheckpointFolder(dirs: Iterable<string>): string | undefined {
  for (const dir of dirs) if (holdsMetricFiles(dir)) return dir;
  return undefined;
}

/**
 * Where below `dir` the metric files are: the relative path (`metrics`) of the nearest sub-folder, breadth
 * first, at most `maxDepth` levels down, that holds one; undefined when there is none.
 */
export function metricSubfolder(dir: string, maxDepth = 3): string | undefined {
  let level: string[] = [''];
  for (let depth = 1; depth <= maxDepth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const rel of level) {
      for (const e of entries(join(dir, rel)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (!e.isDirectory()) continue;
        const sub = rel === '' ? e.name : `${rel}/${e.name}`;
        if (holdsMetricFiles(join(dir, sub))) return sub;
        next.push(sub);
      }
    }
    level = next;
  }
  return undefined;
}
