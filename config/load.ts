/**
 * Finds, reads and resolves the configuration: `--config FILE`, else `./mdpipe.config.json` if present,
 * else the built-in default. Paths in a file are relative to that file; the built-in default's are
 * relative to the working directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BUILT_IN_CONFIG, DEFAULT_LAYOUT } from './defaults.js';
import { ConfigError } from './errors.js';
import { parseLayout, type Layout } from './layout.js';
import { validateConfig, type AxesConfig, type ConfigFile } from './schema.js';

export const DEFAULT_CONFIG_FILE = 'mdpipe.config.json';

/** What every collection has, whatever its source. */
interface CollectionCommon {
  name: string;
  /** Percent label noise (`noise` in the config, default 0), recorded in the dictionary. */
  noise: number;
}

export interface RawCollection extends CollectionCommon {
  kind: 'raw';
  /** Absolute raw folder. */
  root: string;
  layout: Layout;
  /** Axes from the config; an axis left undefined is discovered from the tree. */
  axes: AxesConfig;
}

export interface PublishedCollection extends CollectionCommon {
  kind: 'published';
  /** Absolute path of the published grid `.npy`. */
  grid: string;
}

export type Collection = RawCollection | PublishedCollection;

export interface ResolvedConfig {
  /** The file the configuration came from, or `null` for the built-in default. */
  file: string | null;
  baseDir: string;
  outDir: string;
  cacheDir: string;
  jobs?: number;
  /** A shared cache URL (`sharedCache`); the CLI lets `--shared-cache` and MDPIPE_SHARED_CACHE override it. */
  sharedCache?: string;
  collections: Collection[];
  /** Build the plot tasks in a default run (`"plots": true`). */
  plots: boolean;
  /**
   * Collections of the built-in default whose raw folder is absent: left out, so a folder holding only
   * the basic collection builds it (a configuration file's collections are all required).
   */
  notFound?: { name: string; root: string }[];
}

export interface LoadOptions {
  /** `--config FILE`, as given on the command line. */
  configPath?: string;
  cwd?: string;
  /** Skip the checks that folders and files exist (for `mdpipe synth`, which creates them). */
  allowMissingInputs?: boolean;
}

export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.configPath !== undefined;
  const file = explicit ? path.resolve(cwd, opts.configPath!) : path.join(cwd, DEFAULT_CONFIG_FILE);
  if (!fs.existsSync(file)) {
    if (explicit) {
      throw new ConfigError('--config', `no configuration file at ${file}`, `check the path, or leave --config out to use ./${DEFAULT_CONFIG_FILE} or the built-in default`);
    }
    return resolveDefault(cwd, opts);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError('(config)', `not valid JSON: ${(e as Error).message}`, 'fix the JSON syntax (a trailing comma or a missing quote, usually)').inFile(file);
  }
  try {
    return resolveConfig(validateConfig(json), file, path.dirname(file), opts);
  } catch (e) {
    if (e instanceof ConfigError && !e.file) e.inFile(file);
    throw e;
  }
}

/**
 * The built-in default: both collections when both raw folders are there; else those that are, with the
 * others in `notFound`; when none is, the error of the first (it names the folder and `mdpipe synth`).
 */
function resolveDefault(cwd: string, opts: LoadOptions): ResolvedConfig {
  const config = validateConfig(BUILT_IN_CONFIG);
  if (opts.allowMissingInputs) return resolveConfig(config, null, cwd, opts);
  const present: ConfigFile['collections'] = {};
  const notFound: { name: string; root: string }[] = [];
  for (const [name, c] of Object.entries(config.collections)) {
    const root = path.resolve(cwd, 'raw' in c ? c.raw : c.grid);
    if (isDirectory(root)) present[name] = c;
    else notFound.push({ name, root });
  }
  if (Object.keys(present).length === 0) return resolveConfig(config, null, cwd, opts);
  const resolved = resolveConfig({ ...config, collections: present }, null, cwd, opts);
  return notFound.length > 0 ? { ...resolved, notFound } : resolved;
}

/** Resolves paths against `baseDir`, parses layouts and checks that inputs exist. */
export function resolveConfig(config: ConfigFile, file: string | null, baseDir: string, opts: LoadOptions = {}): ResolvedConfig {
  const collections: Collection[] = Object.entries(config.collections).map(([name, c]) => {
    const key = `collections.${name}`;
    if ('grid' in c) {
      const grid = path.resolve(baseDir, c.grid);
      if (!opts.allowMissingInputs && !fs.existsSync(grid)) {
        throw new ConfigError(`${key}.grid`, `the published grid ${grid} does not exist`, `point ${key}.grid at a metric_grid_*.npy file (relative to ${file ?? 'the working directory'})`);
      }
      return { name, kind: 'published', grid, noise: c.noise ?? 0 };
    }
    const root = path.resolve(baseDir, c.raw);
    if (!opts.allowMissingInputs && !isDirectory(root)) {
      throw new ConfigError(
        `${key}.raw`,
        `the raw folder ${root} does not exist`,
        `point ${key}.raw at the folder holding the checkpoint folders (relative to ${file ?? 'the working directory'}), or create a demo tree with "mdpipe synth --out ${c.raw} --collection ${name === 'noisy' ? 'noisy' : 'basic'}"`,
      );
    }
    return { name, kind: 'raw', root, layout: parseLayout(c.layout ?? DEFAULT_LAYOUT, `${key}.layout`), axes: c.axes ?? {}, noise: c.noise ?? 0 };
  });
  return {
    file,
    baseDir,
    outDir: path.resolve(baseDir, config.outDir ?? 'out'),
    cacheDir: path.resolve(baseDir, config.cacheDir ?? '.mdpipe'),
    jobs: config.jobs,
    sharedCache: config.sharedCache,
    collections,
    plots: config.plots ?? false,
  };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
