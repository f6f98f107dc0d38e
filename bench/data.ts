/**
 * The benchmark's raw trees: synthesized with the project's `synthesize()` into `bench/data/` (gitignored)
 * and kept between runs. A tree is rebuilt only when it is missing, incomplete, or the generator changed,
 * which is checked by writing one probe folder afresh and comparing its bytes with a digest recorded when
 * the tree was written: any change in the generator's output shows there, whatever file caused it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LAYOUT, NOISY_LAYOUT } from '../config/defaults.js';
import { parseLayout } from '../config/layout.js';
import type { Axes } from '../dataset/grid.js';
import { FULL_AXES, synthesize, type CollectionName } from '../synth/index.js';

/** One synthesized collection tree. */
export interface TreeSpec {
  /** Folder under `raw/` and collection name in the config. */
  name: string;
  collection: CollectionName;
  seed: number;
  axes: Axes;
}

export interface Tree extends TreeSpec {
  root: string;
  layout: string;
  folders: number;
  files: number;
}

interface ManifestEntry {
  spec: TreeSpec;
  probe: string;
  folders: number;
  files: number;
}

/** Quick mode: 13 x 13 x 1 per collection (169 folders). */
export const QUICK_AXES: Axes = { bs: FULL_AXES.bs, width: FULL_AXES.width, data: ['10'] };

export function layoutOf(collection: CollectionName): string {
  return collection === 'noisy' ? NOISY_LAYOUT : DEFAULT_LAYOUT;
}

/** The coordinates of the probe folder: the first cell of the axes. */
function probeAxes(axes: Axes): Axes {
  return { bs: [axes.bs[0]], width: [axes.width[0]], data: [axes.data[0]] };
}

/** Digest of every file under `dir`, by relative path. */
export function digestTree(dir: string): string {
  const hash = createHash('sha256');
  const walk = (at: string, rel: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path, `${rel}${entry.name}/`);
      else hash.update(`${rel}${entry.name}\n`).update(readFileSync(path));
    }
  };
  walk(dir, '');
  return hash.digest('hex');
}

/** Writes one folder of `spec` with another seed or axes into a fresh temporary root; returns the root. */
export async function synthesizeInto(spec: Pick<TreeSpec, 'collection'>, axes: Axes, seed: number): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'mdpipe-bench-'));
  await synthesize({ out: root, collection: spec.collection, axes, seed });
  return root;
}

async function probeDigest(spec: TreeSpec): Promise<string> {
  const root = await synthesizeInto(spec, probeAxes(spec.axes), spec.seed);
  try {
    return digestTree(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Counts the folders and files the layout finds under `root` (what a complete tree must hold). */
function countTree(root: string): { folders: number; files: number } {
  let folders = 0;
  let files = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) {
        files++;
        continue;
      }
      if (entry.name === 'metrics') folders++;
      walk(join(dir, entry.name));
    }
  };
  if (existsSync(root)) walk(root);
  return { folders, files };
}

/**
 * Makes sure every tree exists and matches the current generator, synthesizing what is missing.
 * @param dataDir `bench/data/<mode>`
 * @param log progress lines
 */
export async function ensureTrees(dataDir: string, specs: readonly TreeSpec[], log: (line: string) => void): Promise<Tree[]> {
  mkdirSync(dataDir, { recursive: true });
  const manifestFile = join(dataDir, 'manifest.json');
  const manifest: Record<string, ManifestEntry> = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : {};
  const trees: Tree[] = [];
  let wrote = false;
  for (const spec of specs) {
    const root = join(dataDir, 'raw', spec.name);
    const probe = await probeDigest(spec);
    const entry = manifest[spec.name];
    const counted = countTree(root);
    const fresh =
      entry !== undefined &&
      entry.probe === probe &&
      JSON.stringify(entry.spec) === JSON.stringify(spec) &&
      counted.folders === entry.folders &&
      counted.files === entry.files;
    if (!fresh) {
      log(`synthesizing ${spec.name} (${spec.collection}, seed ${spec.seed}) into ${root}${entry ? ' (generator or tree changed)' : ''}`);
      rmSync(root, { recursive: true, force: true });
      const result = await synthesize({ out: root, collection: spec.collection, axes: spec.axes, seed: spec.seed });
      manifest[spec.name] = { spec, probe, folders: result.folders, files: result.files };
      writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
      wrote = true;
    }
    const { folders, files } = manifest[spec.name];
    trees.push({ ...spec, root, layout: layoutOf(spec.collection), folders, files });
  }
  if (wrote) ageTrees(trees);
  return trees;
}

/**
 * Sets every file's mtime an hour back: files written moments before a build fall in the engine's racy
 * window (not memoised), which would make the first no-op measure re-hashing rather than the steady state.
 */
function ageTrees(trees: readonly Tree[]): void {
  const past = Date.now() / 1000 - 3600;
  for (const path of listFiles(trees)) utimesSync(path, past, past);
}

/** Every raw file of the trees, sorted. */
export function listFiles(trees: readonly Tree[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(path);
    }
  };
  for (const tree of trees) walk(tree.root);
  return out.sort();
}

/** The absolute folder of one checkpoint of a tree. */
export function folderOf(tree: Tree, coords: { bs: number; width: number; data: string }): string {
  return join(tree.root, parseLayout(tree.layout, 'bench').format(coords));
}
