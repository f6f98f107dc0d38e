/** The benchmark's table: one Markdown table, printed and written to the results file. */

export interface Row {
  label: string;
  median: number;
  min: number;
  max: number;
  rssMb: number;
  /** Median CPU time, user + system. */
  cpuMs: number;
  /** Tasks executed (mdpipe runs only). */
  executed: string;
  /** The ratio to what it is judged against, as text. */
  ratio: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;

export function formatTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | median | min | max | CPU (median) | peak RSS | tasks executed | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const rss = Number.isFinite(r.rssMb) ? `${r.rssMb.toFixed(0)} MB` : 'n/a';
    const cpu = Number.isFinite(r.cpuMs) ? ms(r.cpuMs) : 'n/a';
    lines.push(`| ${r.label} | ${ms(r.median)} | ${ms(r.min)} | ${ms(r.max)} | ${cpu} | ${rss} | ${r.executed} | ${r.ratio} |`);
  }
  return lines.join('\n');
}
