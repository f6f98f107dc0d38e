/**
 * The grid of a raw collection (the `grid:C` stage): its checkpoints' metrics on the axes, with the
 * coverage its report needs. Built in full from every checkpoint, or patched from the previous output
 * when a few checkpoints were added, changed or removed: the patch touches one cell per checkpoint and
 * decodes nothing else, and gives the same value, array for array, as a full build of the same checkpoints.
 */
import { CELL_FOUND, rawCoverage, type CheckpointNote, type Coverage } from './coverage.js';
import { buildGrid, cellLocator, configurationName, gridSize, setCell, type Axes, type ConfigurationKey, type Grid } from './grid.js';
import { METRIC_FILES, METRIC_NAMES, type MetricFile, type MetricName, type Metrics } from './metrics.js';
import type { OutsideFolder } from './outside-axes.js';

/** What the grid reads of one checkpoint folder (the parse stage's output satisfies it). */
export interface FoundCheckpoint {
  coords: ConfigurationKey;
  metrics: Partial<Metrics>;
  /** Metric files the folder lacks. */
  absent: readonly MetricFile[];
  /** What a person should know about the folder besides absent files. */
  notes?: readonly string[];
}

/** The output of a `grid` stage. */
export interface GridOutput {
  grid: Grid;
  coverage: Coverage;
}

/** The output of a raw collection's `grid` stage: also each cell's flags (CELL_FOUND, absent files), to patch it. */
export interface RawGridOutput extends GridOutput {
  cells: Uint8Array;
}

/** Axes a configuration gives; an axis left out is discovered from the checkpoints found. */
export type ConfiguredAxes = Partial<Axes>;

/** Axes of a raw collection: configured ones as given, the others as found (bs, width ascending; data descending). */
export function resolveAxes(configured: ConfiguredAxes, found: readonly FoundCheckpoint[]): Axes {
  const distinct = <T>(xs: T[]) => [...new Set(xs)];
  return packedAxes({
    bs: configured.bs ?? distinct(found.map((p) => p.coords.bs)).sort((a, b) => a - b),
    width: configured.width ?? distinct(found.map((p) => p.coords.width)).sort((a, b) => a - b),
    data: configured.data ?? distinct(found.map((p) => p.coords.data)).sort((a, b) => Number(b) - Number(a)),
  });
}

/** The grid of every checkpoint found, in full. */
export function buildRawGrid(configured: ConfiguredAxes, found: readonly FoundCheckpoint[], outside: readonly OutsideFolder[]): RawGridOutput {
  const axes = resolveAxes(configured, found);
  const { grid } = buildGrid(
    axes,
    found.map((p) => ({ ...p.coords, metrics: p.metrics })),
  );
  const cells = new Uint8Array(gridSize(axes));
  const cellOf = cellLocator(axes);
  const notes: CheckpointNote[] = [];
  for (const p of found) {
    const at = cellOf(p.coords);
    if (at === undefined) continue; // not on configured axes: the parse stage declines those folders
    cells[at] = cellFlags(p);
    if (p.notes !== undefined) notes.push(noteOf(p));
  }
  return { grid, coverage: rawCoverage(grid, cells, notes, outside), cells };
}

/**
 * The grid after some checkpoints changed (or are new) and some were removed, from the previous output.
 * Returns null where the grid changes shape, for the caller to build it in full: a checkpoint with a value
 * new to a discovered axis, or a removed one that took the last checkpoint of a discovered axis value.
 */
export function patchRawGrid(
  previous: RawGridOutput,
  configured: ConfiguredAxes,
  changed: readonly FoundCheckpoint[],
  removed: readonly ConfigurationKey[],
  outside: readonly OutsideFolder[],
): RawGridOutput | null {
  // A hint, never a source of truth: a previous value of another shape is ignored.
  if (!ArrayBuffer.isView(previous?.cells) || previous.grid?.axes === undefined) return null;
  const axes = packedAxes(previous.grid.axes);
  const n = gridSize(axes);
  if (previous.cells.length !== n) return null;
  const metrics = {} as Record<MetricName, Float64Array>;
  for (const m of METRIC_NAMES) metrics[m] = previous.grid.metrics[m].slice();
  const grid: Grid = { axes, metrics };
  const cells = previous.cells.slice();
  const notes = new Map(previous.coverage.checkpointNotes.map((c) => [c.configuration, c]));
  const cellOf = cellLocator(axes);
  for (const c of removed) {
    const at = cellOf(c);
    if (at === undefined) return null;
    setCell(grid, at, null);
    cells[at] = 0;
    notes.delete(configurationName(c));
  }
  for (const p of changed) {
    const at = cellOf(p.coords);
    if (at === undefined) return null; // a new value on a discovered axis: the grid grows
    setCell(grid, at, p.metrics);
    cells[at] = cellFlags(p);
    const note = noteOf(p);
    if (p.notes !== undefined) notes.set(note.configuration, note);
    else notes.delete(note.configuration);
  }
  if (!discoveredAxesHold(axes, configured, cells)) return null;
  return { grid, coverage: rawCoverage(grid, cells, [...notes.values()], outside), cells };
}

/**
 * True when a full build would discover the same axes: every discovered axis value still has a checkpoint
 * (added values were caught before), and no two discovered data values tie in numeric order ("5" and
 * "05"), where the full build's order would follow the order it met them in.
 */
function discoveredAxesHold(axes: Axes, configured: ConfiguredAxes, cells: Uint8Array): boolean {
  const [nb, nw, nd] = [axes.bs.length, axes.width.length, axes.data.length];
  const seen = [new Uint8Array(nb), new Uint8Array(nw), new Uint8Array(nd)];
  for (let at = 0; at < cells.length; at++) {
    if (!(cells[at] & CELL_FOUND)) continue;
    const k = at % nd;
    const j = Math.floor(at / nd) % nw;
    const i = Math.floor(at / (nd * nw));
    seen[0][i] = seen[1][j] = seen[2][k] = 1;
  }
  const names = ['bs', 'width', 'data'] as const;
  if (names.some((name, a) => configured[name] === undefined && seen[a].includes(0))) return false;
  return configured.data !== undefined || new Set(axes.data.map(Number)).size === nd;
}

function cellFlags(p: FoundCheckpoint): number {
  let flags = CELL_FOUND;
  for (const f of p.absent) flags |= 1 << METRIC_FILES.indexOf(f);
  return flags;
}

function noteOf(p: FoundCheckpoint): CheckpointNote {
  return { configuration: configurationName(p.coords), notes: p.notes ?? [] };
}

/** Axes as fresh arrays (`map`): see `rawCoverage` on why a value is never built around a decoded array. */
function packedAxes(a: Axes): Axes {
  return { bs: a.bs.map(Number), width: a.width.map(Number), data: a.data.map(String) };
}
