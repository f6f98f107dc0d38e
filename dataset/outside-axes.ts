/**
 * Which checkpoint folders are outside a collection's configured axes, and why: the check the parse
 * stage runs on every folder discovery finds (tasks/parse.ts), and the record the collection's report
 * lists them by (dataset/coverage.ts). Kept apart from the grid code, with type-only imports, because
 * discovery runs it before any task does and a no-op run must not load the dataset's math for it
 * (see tasks/lazy.ts).
 */
import type { Axes, ConfigurationKey } from './grid.js';

/** A checkpoint folder found by the layout but not on the configured axes. */
export interface OutsideFolder {
  folder: string;
  reason: string;
}

/** Why `c` is not on the configured axes (an axis left out of the configuration takes any value), or undefined. */
export function offConfiguredAxes(axes: Partial<Axes>, c: ConfigurationKey): string | undefined {
  if (axes.bs && !axes.bs.includes(c.bs)) return `bs ${c.bs} is not on the configured bs axis`;
  if (axes.width && !axes.width.includes(c.width)) return `width ${c.width} is not on the configured width axis`;
  if (axes.data && !axes.data.includes(c.data)) return `data "${c.data}" is not on the configured data axis`;
  return undefined;
}
