/**
 * `mdpipe synth`: writes a raw tree in the real format (one folder of six metric files per
 * configuration), from the built-in model or reproducing a published grid, and prints the configuration
 * that builds it (or writes it with `--config-out`). The demo, the tests and the benchmark run on it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_LAYOUT, NOISY_LAYOUT, NOISY_NOISE_PERCENT } from '../../config/defaults.js';
import type { Axes } from '../../dataset/grid.js';
import { readPublishedGrid } from '../../dataset/published-grid.js';
import { resolveAxes } from '../../synth/axes.js';
import { synthesize, type CollectionName, type SynthResult } from '../../synth/index.js';
import { EXIT } from '../exit-codes.js';
import { bytes, compactJson, count, displayPath, duration, plural } from '../format.js';
import { invocation } from '../invocation.js';
import { trapInterrupt } from '../interrupt.js';
import { chooseProgressMode, createProgress } from '../progress.js';
import type { Session } from '../session.js';
import { UsageError } from '../usage-error.js';
import { writeFileAtomic } from '../../util/atomic-write.js';

export interface SynthFlags {
  out: string;
  grid?: string;
  collection: CollectionName;
  axes: 'small' | 'full';
  seed: number;
  configOut?: string;
  /** `--no-progress` sets it false. */
  progress?: boolean;
}

/** The `noise` key of a synthetic collection: the noisy model flips 10 % of labels; basic has none. */
export const noiseOf = (collection: CollectionName): { noise?: number } => (collection === 'noisy' ? { noise: NOISY_NOISE_PERCENT } : {});

/** A collection entry of mdpipe.config.json. */
interface CollectionEntry {
  raw: string;
  layout: string;
  axes: { bs: number[]; width: number[]; data: string[] };
  /** Percent label noise, for the dictionary (the noisy collection's 10). */
  noise?: number;
}

export async function synthCommand(session: Session, flags: SynthFlags): Promise<number> {
  const { terminal } = session;
  const out = path.resolve(flags.out);
  const outcome = await writeSyntheticTree(session, { ...flags, out });
  if (outcome === 'interrupted') return EXIT.interrupted;
  const { result, axes } = outcome;
  const lines = [
    `wrote ${plural(result.folders, 'checkpoint folder')} (${count(result.files)} files, ${bytes(result.bytes)}) to ${displayPath(out)} in ${duration(result.ms)}`,
  ];
  if (result.fit) {
    const f = result.fit;
    lines.push(`reproduces ${displayPath(flags.grid!)}: ${count(f.exact)} of ${count(f.values)} metric values exact, largest relative error ${f.maxRelError.toExponential(1)}`);
  }
  for (const warning of result.warnings) terminal.err(`warning: ${warning}\n`);

  const layout = flags.collection === 'noisy' ? NOISY_LAYOUT : DEFAULT_LAYOUT;
  if (flags.configOut) {
    const file = path.resolve(flags.configOut);
    const entry: CollectionEntry = { raw: relativeTo(path.dirname(file), out), layout, axes: plainAxes(axes), ...noiseOf(flags.collection) };
    const merged = await writeConfigEntry(file, flags.collection, entry);
    const inCwd = file === path.resolve('mdpipe.config.json');
    lines.push(
      `${merged ? 'added' : 'wrote'} collection "${flags.collection}" ${merged ? 'to' : 'in'} ${displayPath(file)}; build it with:`,
      `  ${invocation()} run${inCwd ? '' : ` --config ${displayPath(file)}`}`,
    );
  } else {
    const entry: CollectionEntry = { raw: relativeTo(process.cwd(), out), layout, axes: plainAxes(axes) };
    lines.push(
      `to build it, save this as mdpipe.config.json here (paths in it are relative to the file) and run \`${invocation()} run\``,
      `(or pass --config-out mdpipe.config.json to write it):`,
      compactJson({ collections: { [flags.collection]: entry } }),
    );
  }
  terminal.out(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/**
 * Writes the tree with progress and Ctrl-C handling; used by `synth` and `demo`.
 * @returns what was written and the axes written, or 'interrupted' (after saying so)
 */
export async function writeSyntheticTree(
  session: Session,
  flags: Omit<SynthFlags, 'configOut'>,
): Promise<{ result: SynthResult; axes: Axes } | 'interrupted'> {
  const { terminal, globals } = session;
  const mode = chooseProgressMode(terminal, { quiet: globals.quiet, progress: flags.progress });
  const progress = createProgress(mode, terminal, `${flags.collection} folders`, (text) => terminal.err(`${text}\n`));
  let started = false;
  let written = 0;
  const trap = trapInterrupt(() => terminal.err('stopping after the folder being written (Ctrl-C again to quit at once)\n'));
  try {
    const result = await synthesize({
      out: flags.out,
      collection: flags.collection,
      axes: flags.axes,
      grid: flags.grid,
      seed: flags.seed,
      signal: trap.signal,
      onProgress: (done, total) => {
        if (!started) progress.start(total);
        started = true;
        written = done;
        progress.update(done);
      },
    });
    progress.stop();
    return { result, axes: await writtenAxes(flags) };
  } catch (error) {
    progress.stop();
    if (trap.interrupted) {
      terminal.err(
        `interrupted: ${plural(written, 'folder')} written to ${displayPath(flags.out)}, each complete; ` +
          'run the same command again to finish (it rewrites the same bytes)\n',
      );
      return 'interrupted';
    }
    throw error;
  } finally {
    trap.dispose();
  }
}

/** The axes synth wrote: the published (or small) ones, or those of the grid it reproduced. */
async function writtenAxes(flags: Pick<SynthFlags, 'grid' | 'axes'>): Promise<Axes> {
  if (flags.grid === undefined) return resolveAxes(flags.axes);
  // synthesize() has read it already: this second read cannot fail for a reason the first did not.
  const grid = readPublishedGrid(fs.readFileSync(flags.grid), flags.grid);
  return resolveAxes(flags.axes, grid.axes, flags.grid);
}

function plainAxes(axes: Axes): CollectionEntry['axes'] {
  return { bs: [...axes.bs], width: [...axes.width], data: [...axes.data] };
}

/** `to` relative to `from`, with `/` separators (config files are shared between systems). */
function relativeTo(from: string, to: string): string {
  const rel = path.relative(from, to) || '.';
  return rel.split(path.sep).join('/');
}

/**
 * Adds (or replaces) one collection in a config file, keeping everything else in it.
 * @returns true if the file existed
 * @throws UsageError when the file exists but is not a JSON object
 */
export async function writeConfigEntry(file: string, name: string, entry: CollectionEntry): Promise<boolean> {
  let config: { collections?: Record<string, unknown> } & Record<string, unknown> = {};
  const existed = fs.existsSync(file);
  if (existed) {
    try {
      const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      config = parsed as typeof config;
    } catch (error) {
      throw new UsageError(
        `--config-out ${file} exists and is not a configuration (${(error as Error).message})`,
        'fix or delete that file, or give --config-out another path',
      );
    }
  }
  const collections = typeof config.collections === 'object' && config.collections !== null ? config.collections : {};
  config.collections = { ...collections, [name]: entry };
  await writeFileAtomic(file, `${compactJson(config)}\n`);
  return existed;
}
