/**
 * The shape of `mdpipe.config.json`, checked with zod. Every problem becomes a ConfigError naming the key
 * and the fix; an unknown key gets a did-you-mean. The built-in default (config/defaults.ts) goes through
 * the same checks.
 */
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { didYouMean } from '../util/suggest.js';

const positiveInts = z.array(z.number().int().positive()).min(1);
const dataLabels = z.array(z.string().regex(/^[0-9]+$/, 'a data label is digits, like "10" or "09"')).min(1);

export const axesSchema = z.strictObject({
  bs: positiveInts.optional(),
  width: positiveInts.optional(),
  data: dataLabels.optional(),
});

/** Percent of labels flipped when the collection was trained (issue 13): recorded in the dictionary's `noise`. */
const noise = z.number().int().min(0).max(100).optional();

export const rawCollectionSchema = z.strictObject({
  /** Folder holding the collection's checkpoint folders (relative to the config file). */
  raw: z.string().min(1),
  /** Template of one checkpoint folder under `raw`; default: the basic collection's layout. */
  layout: z.string().min(1).optional(),
  /** Axis values to build; any axis left out is discovered from the tree. */
  axes: axesSchema.optional(),
  noise,
});

export const publishedCollectionSchema = z.strictObject({
  /** A published grid `.npy` (pickled dict of arrays with axes `temp`, `width`, `data`). */
  grid: z.string().min(1),
  noise,
});

export const configFileSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Where exports go (`<outDir>/<collection>/dataframe.csv`, ...). */
  outDir: z.string().min(1).optional(),
  /** Where the cache store lives. */
  cacheDir: z.string().min(1).optional(),
  /** Concurrent tasks; default: the number of cores. */
  jobs: z.number().int().positive().optional(),
  /** A shared cache on Redis (`redis://[:password@]host:port[/db]`); prefer MDPIPE_SHARED_CACHE for a password. */
  sharedCache: z.string().min(1).optional(),
  collections: z.record(z.string(), z.unknown()),
  /** Build the `plot:C` tasks in a default run too (they are built only when targeted otherwise). */
  plots: z.boolean().optional(),
});

export type AxesConfig = z.infer<typeof axesSchema>;
export type RawCollectionConfig = z.infer<typeof rawCollectionSchema>;
export type PublishedCollectionConfig = z.infer<typeof publishedCollectionSchema>;
export type ConfigFile = Omit<z.infer<typeof configFileSchema>, 'collections'> & {
  collections: Record<string, RawCollectionConfig | PublishedCollectionConfig>;
};

const COLLECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

const EXAMPLE_RAW =
  '{"raw": "pretrained_model_collections/basic_collection", "layout": "different_knobs_subset_{data}/bs_{bs}/normal/ResNet18_w{width}/metrics"}';

/** Validates parsed JSON; throws the first problem as a ConfigError (all problems are listed in it). */
export function validateConfig(json: unknown): ConfigFile {
  const top = configFileSchema.safeParse(json, { reportInput: true });
  if (!top.success) throw toConfigError(top.error, [], configFileSchema);
  const collections: ConfigFile['collections'] = {};
  const entries = Object.entries(top.data.collections);
  if (entries.length === 0) {
    throw new ConfigError('collections', 'no collection is configured', `add one, e.g. "collections": {"basic": ${EXAMPLE_RAW}}`);
  }
  for (const [name, value] of entries) {
    const key = `collections.${name}`;
    if (!COLLECTION_NAME.test(name)) {
      throw new ConfigError(key, `"${name}" is not a usable collection name (it names task ids and output folders)`, 'use letters, digits, "_" and "-" only');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(key, 'must be an object', `write either ${EXAMPLE_RAW} or {"grid": "path/to/metric_grid.npy"}`);
    }
    if ('grid' in value && 'raw' in value) {
      throw new ConfigError(key, 'has both "raw" and "grid"', 'use one of them: "raw" for a tree of checkpoint folders, "grid" for a published grid .npy');
    }
    const isPublished = 'grid' in value;
    const schema = isPublished ? publishedCollectionSchema : rawCollectionSchema;
    const parsed = schema.safeParse(value, { reportInput: true });
    if (!parsed.success) throw toConfigError(parsed.error, ['collections', name], schema);
    collections[name] = parsed.data;
  }
  return { ...top.data, collections };
}

/** The keys of the object at `path` inside `schema` (through optional wrappers): what is known where a key is unknown. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType | undefined = schema;
  for (const segment of path) {
    while (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
    at = at instanceof z.ZodObject && typeof segment === 'string' ? (at.shape[segment] as z.ZodType | undefined) : undefined;
    if (at === undefined) return [];
  }
  while (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}

/** Turns zod's issues into one ConfigError: the first issue in the headline, the rest listed under it. */
function toConfigError(error: z.ZodError, prefix: (string | number)[], schema: z.ZodType): ConfigError {
  const lines = error.issues.map((issue) => describeIssue(issue, prefix, keysAt(schema, issue.path)));
  const [first, ...rest] = lines;
  const problem = rest.length === 0 ? first.problem : `${first.problem}\n  also: ${rest.map((r) => `${r.key}: ${r.problem}`).join('\n  also: ')}`;
  return new ConfigError(first.key, problem, first.fix);
}

function describeIssue(issue: z.core.$ZodIssue, prefix: (string | number)[], knownKeys: string[]) {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
  const key = path.length ? path.join('.') : '(config)';
  if (issue.code === 'unrecognized_keys') {
    const unknown = issue.keys.map((k) => `"${k}"${didYouMean(k, knownKeys)}`).join(', ');
    const where = path.length ? path.join('.') : 'the top level';
    return { key: path.length ? key : issue.keys[0], problem: `unknown key ${unknown} in ${where}`, fix: `known keys here: ${knownKeys.join(', ')}` };
  }
  if (issue.code === 'invalid_type') {
    const received = issue.input === undefined ? 'nothing (the key is missing)' : JSON.stringify(issue.input);
    return { key, problem: `expected ${issue.expected}, found ${received}`, fix: `set ${key} to a ${issue.expected}` };
  }
  return { key, problem: issue.message, fix: `correct ${key}` };
}
