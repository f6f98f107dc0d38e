/**
 * Outputs are written atomically: while `mdpipe run` rewrites `dataframe.csv` again and again (its inputs
 * flip between two versions), a reader polling the file in a tight loop only ever sees the whole old or
 * the whole new file: header, every row, last line complete; never a missing or half-written file.
 *
 * A control test runs the same reader against a writer that rewrites the file in place, and shows that the
 * reader does catch torn files: the check above could fail.
 */
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPollingReader, type ReaderReport } from '../helpers/reliability-reader.js';
import {
  createProject,
  describeResult,
  MEDIUM_AXES,
  removeScratch,
  type Coords,
  type Project,
} from '../helpers/reliability-project.js';

const AT: Coords = { bs: 64, width: 8, data: '09' };
const FROM: Coords = { bs: 16, width: 11, data: '10' };
const ROWS = MEDIUM_AXES.bs.length * MEDIUM_AXES.width.length * MEDIUM_AXES.data.length;
const REWRITES = 4;

let project: Project;
let csv: string;
/** The two versions of the input file, and the two dataframes they give. */
let inputs: [Buffer, Buffer];
let versions: [string, string];

beforeAll(async () => {
  project = await createProject({ axes: MEDIUM_AXES, name: 'atomic' });
  csv = join(project.outDir, 'basic', 'dataframe.csv');
  const input = project.file('basic', AT, 'loss_acc_test.pkl');
  inputs = [readFileSync(input), readFileSync(project.file('basic', FROM, 'loss_acc_test.pkl'))];
  const build = async (k: 0 | 1): Promise<string> => {
    writeFileSync(input, inputs[k]);
    const r = await project.run(['run', '--json']);
    if (r.code !== 0) throw new Error(describeResult(r));
    return readFileSync(csv, 'utf8');
  };
  const a = await build(0);
  const b = await build(1);
  versions = [a, b];
  expect(a).not.toBe(b);
});
afterAll(() => removeScratch());

/** A whole dataframe: the header, one line per configuration, the last one ending in a newline. */
function isComplete(text: string): boolean {
  const lines = text.split('\n');
  return text.endsWith('\n') && lines[0].startsWith('data_amount,para_amount,') && lines.length === ROWS + 2;
}

function describeTorn(report: ReaderReport): string[] {
  return report.seen
    .filter(([text]) => !versions.includes(text))
    .map(([text, n]) => `${n} x ${text.length} chars, complete: ${isComplete(text)}, ends: ${JSON.stringify(text.slice(-40))}`);
}

test(`a reader polling dataframe.csv while ${REWRITES} runs rewrite it sees only whole old or whole new files`, async () => {
  const reader = await startPollingReader(csv);
  const executed: string[][] = [];
  let report: ReaderReport;
  try {
    for (let k = 0; k < REWRITES; k++) {
      // Alternate the input: each run must publish the other version of the dataframe.
      writeFileSync(project.file('basic', AT, 'loss_acc_test.pkl'), inputs[k % 2]);
      const r = await project.run(['run', '--json']);
      expect({ code: r.code, why: describeResult(r) }).toEqual({ code: 0, why: describeResult(r) });
      executed.push(r.summary!.tasks.filter((t) => t.status === 'executed').map((t) => t.id));
      expect(readFileSync(csv, 'utf8')).toBe(versions[k % 2]);
    }
  } finally {
    report = await reader.stop();
  }
  for (const ids of executed) expect(ids).toContain('export:basic');
  expect(report.errors).toEqual({});
  expect(describeTorn(report)).toEqual([]);
  expect(report.overflow).toBe(0);
  const counts = versions.map((v) => report.seen.find(([text]) => text === v)?.[1] ?? 0);
  expect(counts.every((n) => n > 0)).toBe(true);
  for (const [text] of report.seen) expect(isComplete(text)).toBe(true);
  console.log(`atomic outputs: ${report.reads} reads of dataframe.csv during ${REWRITES} rewrites (${counts[0]} old, ${counts[1]} new), 0 torn, 0 missing`);
});

test('control: the same reader catches a writer that rewrites the file in place', async () => {
  const reader = await startPollingReader(csv);
  let report: ReaderReport;
  try {
    for (let k = 0; k < REWRITES; k++) {
      const bytes = Buffer.from(versions[k % 2]);
      const fd = openSync(csv, 'w'); // truncates: a reader may now see an empty or partial file
      for (let at = 0; at < bytes.length; at += 8192) {
        writeSync(fd, bytes, at, Math.min(8192, bytes.length - at));
        await sleep(2);
      }
      closeSync(fd);
      await sleep(5);
    }
  } finally {
    report = await reader.stop();
  }
  expect(describeTorn(report).length).toBeGreaterThan(0);
});
