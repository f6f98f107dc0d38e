/**
 * `<outDir>/index.html`: one static page over the outputs that opens from disk (relative links, the
 * graph inline, no script, no network): the last run's summary, and per collection its coverage (which
 * configurations of the grid have no checkpoint, from report.json), its plots, and links to its files.
 *
 * Written by the CLI after every run rather than by a task: it describes the run itself (what failed,
 * how long it took), which no task of that run can know, and it must be written when tasks fail too.
 * Written atomically, like last-run.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml } from './graph-picture.js';
import type { LastRun } from './last-run.js';

export const INDEX_FILE = 'index.html';
export const GRAPH_FILE = 'graph.svg';
/** The DOT graph.svg was drawn from (so an unchanged graph is not drawn again). */
export const GRAPH_DOT_FILE = 'graph.dot';

interface Report {
  axes: { bs: number[]; width: number[]; data: string[] };
  /** `missing`: partition names of the configurations with no checkpoint folder (`bs256-w32-d05`). */
  configurations: { expected: number; found: number; missing: string[] };
  warnings: string[];
}

const OUTPUT_FILES = ['dataframe.csv', 'dictionary.npy', 'dictionary.json', 'grid.npz', 'report.json'];
const MISSING_SHOWN = 40;

/** `bs256-w32-d05` as `bs 256, width 32, data 05` (anything else as it is). */
function describeMissing(name: string): string {
  const m = /^bs(\d+)-w(\d+)-d(\d+)$/.exec(name);
  return m ? `bs ${m[1]}, width ${m[2]}, data ${m[3]}` : name;
}

function readReport(dir: string): Report | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;
  } catch {
    return undefined;
  }
}

function collectionSection(outDir: string, name: string, plotNames: readonly string[]): string {
  const dir = path.join(outDir, name);
  const e = escapeHtml;
  const link = (file: string): string => `<a href="${e(`${name}/${file}`)}">${e(file)}</a>`;
  const files = OUTPUT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  const report = readReport(dir);
  let coverage = '<p>no report.json yet: the collection has not been exported.</p>';
  if (report) {
    const c = report.configurations;
    const missing = c.missing.slice(0, MISSING_SHOWN).map((m) => `<li>${e(describeMissing(m))}</li>`).join('');
    coverage =
      `<p>${c.found} of ${c.expected} configurations on the grid (bs ${report.axes.bs.length} &times; width ${report.axes.width.length} &times; data ${report.axes.data.length}) have a checkpoint` +
      (c.missing.length === 0 ? ': none missing.</p>' : `; missing (rows NaN):</p><ul class="missing">${missing}${c.missing.length > MISSING_SHOWN ? `<li>and ${c.missing.length - MISSING_SHOWN} more (report.json lists all)</li>` : ''}</ul>`) +
      (report.warnings.length > 0 ? `<ul class="warnings">${report.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>` : '');
  }
  const plots = plotNames.filter((p) => fs.existsSync(path.join(dir, 'plots', `${p}.png`)));
  const figures = plots.length === 0
    ? `<p>no plots yet: <code>mdpipe run 'plot:${e(name)}'</code> draws them (or set <code>"plots": true</code>).</p>`
    : plots.map((p) => `<figure><a href="${e(`${name}/plots/${p}.svg`)}"><img src="${e(`${name}/plots/${p}.png`)}" alt="${e(`${name}: ${p}`)}" width="900"></a><figcaption>${e(p)}</figcaption></figure>`).join('\n');
  return `<section id="${e(name)}"><h2>${e(name)}</h2>
<p>files: ${files.length === 0 ? 'none yet' : files.map(link).join(' · ')}</p>
<h3>coverage</h3>${coverage}
<h3>plots</h3>${figures}
</section>`;
}

function runSection(run: LastRun | undefined): string {
  if (!run) return '<p>no run recorded.</p>';
  const s = run.summary;
  const failed = run.outcomes.filter((o) => o.status === 'failed');
  return `<p class="summary">${escapeHtml(run.finishedAt)}: ${s.ok ? 'succeeded' : run.interrupted ? 'interrupted' : 'failed'} in ${(s.durationMs / 1000).toFixed(1)} s; ` +
    `${s.executed} executed, ${s.cached} cached, ${s.failed} failed, ${s.skipped} skipped.</p>` +
    (failed.length > 0 ? `<ul class="failed">${failed.map((o) => `<li><b>${escapeHtml(o.id)}</b>: ${escapeHtml(o.error ?? '')}</li>`).join('')}</ul>` : '');
}

/** The page's HTML. `graphSvg` is inlined when given (else the page links graph.svg if it exists). */
export function indexHtml(outDir: string, collections: readonly string[], plotNames: readonly string[], run: LastRun | undefined, graphSvg?: string): string {
  const graph = graphSvg !== undefined
    ? graphSvg.replace(/^<\?xml[^>]*>\s*/, '').replace(/^<!DOCTYPE[^>]*>\s*/, '')
    : fs.existsSync(path.join(outDir, GRAPH_FILE)) ? `<p><a href="${GRAPH_FILE}">the task graph</a></p>` : '<p>no graph drawn.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mdpipe outputs</title>
<style>body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;max-width:1100px}figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}ul.missing{columns:3}.failed{color:#a00}svg{max-width:100%;height:auto}</style></head>
<body><h1>mdpipe outputs</h1>
<nav>${collections.map((c) => `<a href="#${escapeHtml(c)}">${escapeHtml(c)}</a>`).join(' · ')} · <a href="#graph">graph</a></nav>
<h2>last run</h2>${runSection(run)}
${collections.map((c) => collectionSection(outDir, c, plotNames)).join('\n')}
<section id="graph"><h2>task graph</h2>${graph}</section>
</body></html>
`;
}
