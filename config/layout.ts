/**
 * A collection's folder layout: the template of one checkpoint folder's path under the raw root,
 * e.g. `different_knobs_subset_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics`.
 *
 * From the template come the fast-glob pattern that discovers checkpoint folders, the parser that reads
 * the axis values back from a match, and the formatter that writes a folder path for given values (the
 * synthetic-data generator writes trees this way). Placeholders match digits only, so the basic layout
 * `different_knobs_subset_{data}` does not also swallow `different_knobs_subset_noisy_10`.
 */
import { ConfigError } from './errors.js';

export const AXIS_NAMES = ['bs', 'width', 'data'] as const;
export type AxisName = (typeof AXIS_NAMES)[number];

/** One checkpoint folder's coordinates, as spelled in its path (`data` keeps its zero padding: "09"). */
export interface CheckpointCoords {
  bs: number;
  width: number;
  data: string;
}

export interface Layout {
  readonly template: string;
  /** fast-glob pattern (extglob) matching checkpoint folders relative to the raw root. */
  readonly glob: string;
  /** Axis values of a matched folder path (relative, `/`-separated), or null if it does not fit. */
  parse(relPath: string): CheckpointCoords | null;
  /** The relative folder path of a checkpoint. */
  format(coords: CheckpointCoords): string;
}

const PLACEHOLDER = /\{([^}]*)\}/g;
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeGlob = (s: string) => s.replace(/[*?[\]{}()!@+\\]/g, '\\$&');

/**
 * Parses and checks a layout template. `key` is the config key it came from, for error messages.
 * @throws ConfigError when a placeholder is unknown, repeated or missing, or the path is absolute.
 */
export function parseLayout(template: string, key: string): Layout {
  const found: string[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) found.push(m[1]);
  for (const name of found) {
    if (!(AXIS_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(key, `unknown placeholder {${name}} in "${template}"`, 'use only {bs}, {width} and {data}');
    }
  }
  for (const axis of AXIS_NAMES) {
    const n = found.filter((f) => f === axis).length;
    if (n === 0) {
      throw new ConfigError(
        key,
        `the layout "${template}" has no {${axis}} placeholder, so checkpoint folders cannot be told apart by ${axis}`,
        `write {${axis}} where the ${axis} value appears in the folder path, e.g. "different_knobs_subset_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics"`,
      );
    }
    if (n > 1) throw new ConfigError(key, `{${axis}} appears ${n} times in "${template}"`, `keep one {${axis}}`);
  }
  if (template.startsWith('/') || template.split('/').includes('..')) {
    throw new ConfigError(key, `the layout "${template}" must be relative to the raw folder`, 'remove the leading "/" or ".." segments');
  }

  const literals = template.split(PLACEHOLDER).filter((_, i) => i % 2 === 0);
  const names = found as AxisName[];
  let glob = '';
  let regex = '^';
  literals.forEach((lit, i) => {
    glob += escapeGlob(lit);
    regex += escapeRegex(lit);
    if (i < names.length) {
      glob += '+([0-9])';
      regex += `(?<${names[i]}>[0-9]+)`;
    }
  });
  const re = new RegExp(regex + '$');
  return {
    template,
    glob,
    parse(relPath) {
      const g = re.exec(relPath)?.groups;
      if (!g) return null;
      return { bs: Number(g.bs), width: Number(g.width), data: g.data };
    },
    format(c) {
      return template.replace(PLACEHOLDER, (_, name: AxisName) => String(c[name]));
    },
  };
}
