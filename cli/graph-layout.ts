/**
 * The graph picture, laid out once per structure. Drawing the kind graph with Graphviz cost ~310 ms of a
 * `mdpipe run` after one new checkpoint folder on the full-size tree (WebAssembly load ~160 ms, layout
 * ~150 ms; profiled for issue 10, whose budget for that whole run over a no-op is 150 ms), and any run
 * that changes a folded count (`parse:basic/* (1,690)`) or a status paid it, although neither moves a box.
 *
 * So the DOT is a template (cli/graph-picture.ts): Graphviz lays out its structure, counts, fill colours
 * and tooltips being slot tokens, and each run fills its values into that SVG's text. The layout is kept
 * in the cache folder, one file per structure holding the structural DOT and its SVG together
 * (`graph-layout-<hash>.json`, written atomically: a crash leaves the old file or the new one, never a
 * layout under another structure's name; and a file is used only if its DOT is the structure asked for).
 * The newest KEEP files stay: the run page and `mdpipe graph` draw different structures (the page leaves
 * the plot tasks of other runs unfilled), and a few configurations may take turns.
 *
 * A project's first build, which has no layout yet, lays its page out on a worker thread while it builds
 * (`layOutAhead`, cli/graph-layout-worker.ts): ~110 ms off the engine's thread in a full-size cold build
 * (measured side by side, medians of 10: 1.86 -> 1.83 s, the other core being shared with GC).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { foldedId, type Engine } from '../pipeline/index.js';
import { dotToSvg, fillDot, fillSvg, statusTemplate, type DotTemplate, type NodeStatus } from './graph-picture.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { compiledFile } from '../util/compiled-file.js';

const PREFIX = 'graph-layout-';
const KEEP = 8;

interface LayoutFile {
  structure: string;
  svg: string;
}

/** The engine's DOT (kind graph unless `full`) with nodes coloured by `statuses` when given, as a template. */
export function pictureTemplate(
  engine: Engine,
  options: { full?: boolean; maxNodes?: number; targets?: string[] },
  statuses: ReadonlyMap<string, NodeStatus> | undefined,
): DotTemplate {
  return statusTemplate(engine.renderGraph('dot', options), statuses, foldedId);
}

const layoutName = (structure: string): string => `${PREFIX}${createHash('sha256').update(structure).digest('hex').slice(0, 16)}.json`;

function readLayout(file: string, structure: string): string | undefined {
  try {
    const layout = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LayoutFile>;
    return layout.structure === structure && typeof layout.svg === 'string' ? layout.svg : undefined;
  } catch {
    return undefined; // absent, or not whole (written by another version, or damaged): laid out again
  }
}

/** Keeps the layout; a cache folder that cannot be written only means the next run lays out again. */
async function saveLayout(cacheDir: string, name: string, layout: LayoutFile): Promise<void> {
  try {
    await writeFileAtomic(path.join(cacheDir, name), JSON.stringify(layout));
    const kept = fs.readdirSync(cacheDir).filter((f) => f.startsWith(PREFIX) && f.endsWith('.json'));
    if (kept.length <= KEEP) return;
    const byAge = kept.map((f) => ({ f, t: fs.statSync(path.join(cacheDir, f)).mtimeMs })).sort((a, b) => b.t - a.t);
    for (const { f } of byAge.slice(KEEP)) if (f !== name) fs.rmSync(path.join(cacheDir, f), { force: true });
  } catch {
    // best effort: the picture returned is right either way
  }
}

/** Layouts being made on a worker thread (`layOutAhead`), by structure. */
const ahead = new Map<string, Promise<string>>();

/** Whether any layout is kept in `cacheDir` (none before a project's first build, or after `clean`). */
export function keepsLayouts(cacheDir: string): boolean {
  try {
    return fs.readdirSync(cacheDir).some((f) => f.startsWith(PREFIX));
  } catch {
    return false;
  }
}

/** How this process's pictures were drawn (`run --debug` prints them). */
export const layoutStats = { kept: 0, aheadOnThread: 0, laidOutHere: 0 };

/**
 * Starts laying out the template's structure on a worker thread when no layout of it is kept, so that a
 * run that must lay it out (its first build, a new collection) has it by the time it draws the page: a
 * cold build of the full-size tree spent ~110 ms of its own thread on it (WebAssembly load and layout).
 * Best effort: if the thread cannot start or fails, `drawTemplate` lays out here as before.
 */
export function layOutAhead(template: DotTemplate, cacheDir: string | undefined): void {
  const { structure } = template;
  if (ahead.has(structure)) return;
  if (cacheDir !== undefined && readLayout(path.join(cacheDir, layoutName(structure)), structure) !== undefined) return;
  const script = compiledFile(import.meta.url, ['./graph-layout-worker.js', '../cli/graph-layout-worker.js']);
  if (!script) return; // running from the TypeScript sources (tests): laid out here when drawn
  const laidOut = new Promise<string>((resolve, reject) => {
    const worker = new Worker(script, { workerData: { dot: structure } });
    worker.unref(); // a run that never draws its page does not wait for it
    worker.once('message', (svg: string) => resolve(svg));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the layout thread exited with code ${code}`)));
  });
  laidOut.catch(() => ahead.delete(structure));
  ahead.set(structure, laidOut);
}

/**
 * The template drawn as SVG: from the layout of its structure kept in `cacheDir` when there is one
 * (a few ms, no Graphviz), else laid out by Graphviz (on the thread `layOutAhead` started, if any) and kept
 * there (no cacheDir: nothing kept).
 */
export async function drawTemplate(template: DotTemplate, cacheDir: string | undefined): Promise<string> {
  const name = layoutName(template.structure);
  const kept = cacheDir === undefined ? undefined : readLayout(path.join(cacheDir, name), template.structure);
  const fromKept = kept === undefined ? undefined : fillSvg(kept, template.values);
  if (fromKept !== undefined) {
    layoutStats.kept++;
    return fromKept;
  }
  const pending = ahead.get(template.structure);
  const fromThread = pending && (await pending.catch(() => undefined));
  if (fromThread !== undefined) layoutStats.aheadOnThread++;
  else layoutStats.laidOutHere++;
  const layout = fromThread ?? (await dotToSvg(template.structure));
  const svg = fillSvg(layout, template.values);
  // Graphviz did not keep every slot token once (a newer Graphviz, say): draw the real DOT, keep nothing.
  if (svg === undefined) return dotToSvg(fillDot(template));
  if (cacheDir !== undefined) await saveLayout(cacheDir, name, { structure: template.structure, svg: layout });
  return svg;
}
